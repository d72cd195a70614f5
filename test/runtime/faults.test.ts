import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BERTH_BIN } from "../client/berth.js";
import { tempDir } from "../helpers/processes.js";
import { alive, berth, berthOk, inspect, mountsUnder, storeWithFixtures, waitFor } from "./helpers.js";

/*
 * The fault rounds: kill -9 of conmon, of runc during create, and of the CLI in the middle of
 * `run -d`, `start`, `stop`, `rm -f`, `commit` and `cp`, ROUNDS times each (10 by default), at
 * moments spread over the operation's usual length. After each, `ps -a` tells the truth, `rm -f`
 * works, and nothing is left: no mount, no cgroup directory (of every hierarchy), no network
 * namespace, no slirp4netns or conmon process, no file in the store's tmp.
 */

const ROUNDS = Number(process.env.BERTH_FAULT_ROUNDS ?? 10);

/** Every cgroup directory runc may make for a container: each hierarchy of ours, named ones and the unified one too. */
function allCgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").trim().split("\n")) {
    const [, controllers = "", path = "/"] = line.split(":");
    const dir = controllers === "" ? "unified" : controllers.replace(/^name=/, "");
    out.push(join("/sys/fs/cgroup", dir, path, `berth-${id}`));
  }
  return out;
}

/** Processes whose command line names the container (conmon, its exit command) or its network namespace (slirp4netns). */
function processesOf(id: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(id) && alive(Number(pid))) out.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {}
  }
  return out;
}

function leftoversOf(root: string, id: string): string[] {
  const out: string[] = [];
  out.push(...mountsUnder(join(root, "containers", id)).map((m) => `mount ${m}`));
  out.push(
    ...allCgroupDirs(id)
      .filter((d) => existsSync(d))
      .map((d) => `cgroup ${d}`),
  );
  if (existsSync(`/run/netns/berth-${id}`)) out.push("netns");
  out.push(...processesOf(id).map((p) => `process ${p}`));
  if (existsSync(join(root, "containers", id))) out.push("directory");
  if (existsSync(join(root, "runc", id))) out.push("runtime state");
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Starts berth and SIGKILLs it after `ms`; resolves once it is gone. */
async function killDuring(root: string, args: string[], ms: number): Promise<void> {
  const child = spawn(process.execPath, [BERTH_BIN, "--root", root, ...args], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  await Promise.race([sleep(ms), exited]);
  child.kill("SIGKILL");
  await exited;
}

/** Moments spread over [0, span): one per round, each in its own slice, jittered. */
function moments(span: number): number[] {
  return Array.from({ length: ROUNDS }, (_, i) => Math.round(((i + Math.random()) / ROUNDS) * span));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = Date.now();
  await fn();
  return Date.now() - t;
}

describe("fault rounds: kill -9 part-way, then the truth and nothing left", () => {
  let root: string;
  let dir: string;
  before(async () => {
    root = await storeWithFixtures();
    dir = await tempDir("berth-faults-");
  });
  after(async () => {
    const ids = (await berth(root, ["ps", "-aq"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(root, ["rm", "-f", ...ids]);
  });

  /**
   * What must hold after a round: ps agrees with the processes (Up exactly when the container's
   * process runs and has been let go), rm -f works, nothing is left, and the store's tmp is empty.
   */
  async function verify(name: string, what: string): Promise<void> {
    const r = await berth(root, ["inspect", name]);
    if (r.code === 0) {
      const c = await inspect(root, name);
      const id = c.Id as string;
      const status = (
        await berthOk(root, ["ps", "-a", "--filter", `id=${id}`, "--format", "{{.Status}}"])
      ).stdout.trim();
      const pid = c.State.Pid as number;
      const heldAtStart = existsSync(join(root, "runc", id, "exec.fifo"));
      if (/^Up /.test(status))
        assert.ok(pid > 0 && alive(pid) && !heldAtStart, `${what}: ps says ${status}, the process must run`);
      else {
        const procs = allCgroupDirs(id).flatMap((d) => {
          try {
            return readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
          } catch {
            return [];
          }
        });
        // What may be there: runc's init, held before the command (a create whose start never came).
        const running = procs.filter((p) => !/^runc:\[/.test(comm(Number(p))));
        assert.deepEqual(running, [], `${what}: ps says ${status || "nothing"}, no process of it may run`);
      }
      const rmf = await berth(root, ["rm", "-f", name]);
      assert.equal(rmf.code, 0, `${what}: rm -f: ${rmf.stderr}`);
      await waitFor(
        `${what}: everything of ${id} gone`,
        () => leftoversOf(root, id).length === 0,
        10_000,
      ).catch(() => assert.deepEqual(leftoversOf(root, id), [], what));
    }
    await berthOk(root, ["ps", "-a"]); // opens the store: what dead processes left in tmp/ is swept
    const tmp = join(root, "tmp");
    const left = existsSync(tmp) ? readdirSync(tmp) : [];
    assert.deepEqual(left, [], `${what}: the store's tmp`);
  }

  test("the CLI killed during run -d and during start", async () => {
    const span = await timed(() =>
      berthOk(root, [
        "run",
        "-d",
        "--name",
        "probe-run",
        "-p",
        "127.0.0.1::80",
        "busybox:1",
        "sleep",
        "1000",
      ]),
    );
    await berthOk(root, ["rm", "-f", "probe-run"]);
    for (const [i, ms] of moments(span).entries()) {
      const name = `killed-run-${i}`;
      await killDuring(
        root,
        ["run", "-d", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"],
        ms,
      );
      await verify(name, `run -d killed at ${ms} ms`);
    }
    await berthOk(root, [
      "create",
      "--name",
      "probe-start",
      "-p",
      "127.0.0.1::80",
      "busybox:1",
      "sleep",
      "1000",
    ]);
    const startSpan = await timed(() => berthOk(root, ["start", "probe-start"]));
    await berthOk(root, ["rm", "-f", "probe-start"]);
    for (const [i, ms] of moments(startSpan).entries()) {
      const name = `killed-start-${i}`;
      await berthOk(root, ["create", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"]);
      await killDuring(root, ["start", name], ms);
      // The next start works (no "Device or resource busy" from a slirp4netns left behind).
      const again = await berth(root, ["start", name]);
      assert.equal(again.code, 0, `start after a start killed at ${ms} ms: ${again.stderr}`);
      assert.equal((await inspect(root, name)).State.Running, true);
      await verify(name, `start killed at ${ms} ms`);
    }
  });

  test("the CLI killed during stop and during rm -f", async () => {
    const stubborn = ["busybox:1", "sh", "-c", "trap '' TERM; while true; do sleep 1; done"];
    for (const [i, ms] of moments(1500).entries()) {
      const name = `killed-stop-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, ...stubborn]);
      await killDuring(root, ["stop", "-t", "1", name], ms);
      await verify(name, `stop killed at ${ms} ms`);
    }
    await berthOk(root, ["run", "-d", "--name", "probe-rm", "busybox:1", "sleep", "1000"]);
    const span = await timed(() => berthOk(root, ["rm", "-f", "probe-rm"]));
    for (const [i, ms] of moments(span).entries()) {
      const name = `killed-rm-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, "busybox:1", "sleep", "1000"]);
      await killDuring(root, ["rm", "-f", name], ms);
      await verify(name, `rm -f killed at ${ms} ms`);
    }
  });

  test("the CLI killed during commit and during cp (no partial file under the final name)", async () => {
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "committed",
      "busybox:1",
      "sh",
      "-c",
      "head -c 20000000 /dev/urandom > /big; sleep 1000",
    ]);
    await waitFor(
      "the file to be written",
      async () => (await berth(root, ["exec", "committed", "test", "-s", "/big"])).code === 0,
    );
    await sleep(500);
    const span = await timed(() => berthOk(root, ["commit", "committed", "probe:commit"]));
    await berthOk(root, ["rmi", "probe:commit"]);
    for (const [i, ms] of moments(span).entries()) {
      await killDuring(root, ["commit", "committed", `killed:commit-${i}`], ms);
      await berthOk(root, ["ps", "-a"]);
      assert.deepEqual(readdirSync(join(root, "tmp")), [], `commit killed at ${ms} ms: the store's tmp`);
      assert.equal((await inspect(root, "committed")).State.Running, true, "the container still runs");
      await berth(root, ["rmi", `killed:commit-${i}`]);
    }
    await verify("committed", "after the commits");

    const src = join(dir, "big.bin");
    await writeFile(src, Buffer.alloc(30_000_000, 7));
    await berthOk(root, ["run", "-d", "--name", "copied", "busybox:1", "sleep", "1000"]);
    const cpSpan = await timed(() => berthOk(root, ["cp", src, "copied:/probe.bin"]));
    for (const [i, ms] of moments(cpSpan).entries()) {
      const dest = `/copy-${i}.bin`;
      await killDuring(root, ["cp", src, `copied:${dest}`], ms);
      const size = await berth(root, [
        "exec",
        "copied",
        "sh",
        "-c",
        `test -e ${dest} && wc -c < ${dest} || echo absent`,
      ]);
      const seen = size.stdout.trim();
      assert.ok(seen === "absent" || seen === "30000000", `cp killed at ${ms} ms: ${dest} is ${seen}`);
    }
    await verify("copied", "after the copies");
    await rm(src, { force: true });
  });

  test("conmon killed: ps says Up while the process runs, and rm -f leaves nothing", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const name = `no-monitor-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"]);
      const c = await inspect(root, name);
      const conmon = Number(readFileSync(join(root, "containers", c.Id, "bundle/conmon.pid"), "utf8"));
      if (i % 2 === 1) await sleep(Math.random() * 200);
      process.kill(conmon, "SIGKILL");
      await waitFor("conmon to die", () => !alive(conmon));
      await verify(name, `conmon killed (round ${i})`);
    }
  });

  test("runc killed during create: the start fails, and rm -f leaves no cgroup behind", async () => {
    // A runtime that is runc, killed part-way through each create after a delay of the round's.
    const delayFile = join(dir, "delay");
    const killer = join(dir, "runc-killed-in-create");
    await writeFile(
      killer,
      `#!/bin/sh
for a in "$@"; do
  if [ "$a" = create ]; then
    runc "$@" &
    pid=$!
    sleep "$(cat ${delayFile})"
    kill -9 $pid 2>/dev/null
    wait $pid
    exit $?
  fi
done
exec runc "$@"
`,
    );
    await chmod(killer, 0o755);
    await writeFile(join(root, "config.yaml"), `runtime: ${killer}\n`);
    try {
      // runc's create takes some tens of milliseconds: spread the kills over 0-150 ms.
      for (const [i, ms] of moments(150).entries()) {
        await writeFile(delayFile, (ms / 1000).toFixed(3));
        const name = `runc-killed-${i}`;
        const r = await berth(root, [
          "run",
          "-d",
          "--name",
          name,
          "-p",
          "127.0.0.1::80",
          "busybox:1",
          "sleep",
          "1000",
        ]);
        const c = await inspect(root, name);
        if (r.code === 0) assert.equal(c.State.Running, true, "a create that finished in time runs");
        else assert.notEqual(c.State.Status, "running", `runc killed at ${ms} ms: ${r.stderr}`);
        await verify(name, `runc killed during create at ${ms} ms`);
      }
    } finally {
      await rm(join(root, "config.yaml"), { force: true });
    }
  });
});
