// A test file that starts processes and never stops them, run by processes.test.ts under its own
// `node --test` to show that processes.ts leaves nothing running however the file ends. Not a
// *.test.ts, so the suite does not run it by itself. LEAKY_REPORT names a file that receives one
// JSON line per thing started ({"name": …, "pid": …} or {"name": …, "path": …}) and then
// {"name": "ready"}; LEAKY_MODE says how the file ends:
//   hang     the test waits forever (the runner's --test-timeout, or the parent kills the file)
//   throw    the test fails with an uncaught error, leaving everything running
//   cancel   a `before` hook starts everything and then throws: the file's tests are cancelled
// LEAKY_CONTAINER=1 also runs a container (`berth run -d`) in a store made by tempRoot().
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "./fixtures.js";
import { onTeardown, start, startBerthRegistry, tempDir, waitFor } from "./processes.js";

const report = process.env.LEAKY_REPORT!;
const mode = process.env.LEAKY_MODE ?? "hang";

function note(entry: Record<string, string | number>): void {
  appendFileSync(report, `${JSON.stringify(entry)}\n`);
}

async function startEverything(): Promise<void> {
  note({ name: "file", pid: process.pid });
  const registry = await startBerthRegistry();
  note({ name: "registry", pid: registry.pid });
  note({ name: "registry root", path: registry.root });
  // A shell whose background job shares its process group.
  const shell = start("sh", ["-c", "sleep 1000 & echo $!; wait"]);
  await waitFor("the shell's job", () => /^\d+\n/.test(shell.logs()));
  note({ name: "shell", pid: shell.pid });
  note({ name: "shell's job", pid: Number(shell.logs().trim()) });
  // A daemon in a session of its own, as scripts/cluster.sh starts its parts: only its teardown
  // command reaches it.
  const dir = await tempDir("berth-leaky-");
  const pidFile = join(dir, "daemon.pid");
  // The shell waits for the pid file: its group is killed when it exits, maybe before setsid ran.
  const daemonStart =
    'setsid sh -c "echo \\$\\$ > $0; exec sleep 1000" "$0" & until [ -s "$0" ]; do sleep 0.05; done';
  start("sh", ["-c", daemonStart, pidFile]);
  await waitFor("the daemon's pid file", () => {
    try {
      return /^\d+\n$/.test(readFileSync(pidFile, "utf8"));
    } catch {
      return false;
    }
  });
  const daemon = Number(readFileSync(pidFile, "utf8"));
  onTeardown(["kill", "-KILL", String(daemon)]);
  note({ name: "daemon", pid: daemon });
  // A child spawned the way library code under test does, without the helpers.
  const stray = spawn("sleep", ["1000"], { stdio: "ignore" });
  note({ name: "stray child", pid: stray.pid! });
  if (process.env.LEAKY_CONTAINER === "1") {
    const root = await tempRoot("berth-leaky-store-");
    note({ name: "store", path: root });
    await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const id = (await berthOk(root, ["run", "-d", "busybox:1", "sleep", "1000"])).stdout.trim();
    const inspected = JSON.parse((await berthOk(root, ["inspect", id])).stdout) as {
      State: { Pid: number };
    }[];
    note({ name: "container", pid: inspected[0]!.State.Pid });
    note({ name: "container id", path: id });
    const conmon = Number(readFileSync(join(root, "containers", id, "bundle/conmon.pid"), "utf8"));
    note({ name: "conmon", pid: conmon });
  }
  note({ name: "ready" });
}

describe(`a file that leaves everything running (${mode})`, () => {
  if (mode === "cancel") {
    before(async () => {
      await startEverything();
      throw new Error("the before hook fails");
    });
    it("never runs", () => {});
    return;
  }
  it("starts processes and does not stop them", async () => {
    await startEverything();
    if (mode === "throw") {
      setImmediate(() => {
        throw new Error("an uncaught error");
      });
      throw new Error("the test fails");
    }
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  });
});
