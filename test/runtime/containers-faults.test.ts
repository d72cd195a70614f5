import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { BERTH_BIN } from "../client/berth.js";
import { freePort, run, start } from "../helpers/processes.js";
import {
  alive,
  berth,
  berthOk,
  inspect,
  leftovers,
  mountsUnder,
  storeWithFixtures,
  waitFor,
} from "./helpers.js";

// Split from containers.test.ts (together they came near the runner's per-file limit on a
// loaded machine): what happens around a running container.
describe("containers on runc + conmon: ports, faults, restarts, races", () => {
  let root: string;
  before(async () => {
    root = await storeWithFixtures();
  });
  after(async () => {
    await berth(root, [
      "rm",
      "-f",
      ...(await berth(root, ["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean),
    ]);
  });

  test("a published port is answered by busybox httpd; port and PORTS show it", async () => {
    const port = await freePort();
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "web",
      "-p",
      `127.0.0.1:${port}:80`,
      "busybox:1",
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/var/www",
    ]);
    let body = "";
    await waitFor("httpd", async () => {
      body = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.text())
        .catch(() => "");
      return body !== "";
    });
    assert.equal(body, "<h1>berth</h1>\n");
    assert.equal((await berthOk(root, ["port", "web"])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(
      (await berthOk(root, ["ps", "--filter", "name=web", "--format", "{{.Ports}}"])).stdout,
      `127.0.0.1:${port}->80/tcp\n`,
    );
    const taken = await berth(root, [
      "run",
      "-d",
      "--name",
      "web2",
      "-p",
      `127.0.0.1:${port}:80`,
      "busybox:1",
      "true",
    ]);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /port is already allocated/);
    const web2 = await inspect(root, "web2");
    assert.deepEqual(
      leftovers(root, web2.Id, []).filter((l) => l !== "directory"),
      [],
      "a failed start leaves no mount or netns",
    );
    assert.equal(
      (await berthOk(root, ["exec", "web", "sh", "-c", "echo $HOSTNAME; id -un"])).stdout,
      `${(await inspect(root, "web")).Id.slice(0, 12)}\nroot\n`,
    );
    await berthOk(root, ["rm", "-f", "web", "web2"]);
  });

  test("faults: a process killed from outside, conmon killed, a simulated host restart; rm -f leaves nothing", async () => {
    // The process killed from outside: conmon records 137.
    await berthOk(root, ["run", "-d", "--name", "victim", "busybox:1", "sleep", "1000"]);
    const v = await inspect(root, "victim");
    process.kill(v.State.Pid, "SIGKILL");
    await waitFor("ps to see the kill", async () =>
      /^Exited \(137\)/.test(
        (await berthOk(root, ["ps", "-a", "--filter", "name=victim", "--format", "{{.Status}}"])).stdout,
      ),
    );
    await waitFor(
      "the exit command to unmount",
      () => mountsUnder(join(root, "containers", v.Id)).length === 0,
    );
    // conmon killed: the container still runs, ps says so, stop and rm still work.
    await berthOk(root, ["run", "-d", "--name", "orphan", "busybox:1", "sleep", "1000"]);
    const o = await inspect(root, "orphan");
    const conmon = Number(readFileSync(join(root, "containers", o.Id, "bundle/conmon.pid"), "utf8"));
    process.kill(conmon, "SIGKILL");
    await waitFor("conmon to die", () => !alive(conmon));
    assert.match(
      (await berthOk(root, ["ps", "--filter", "name=orphan", "--format", "{{.Status}}"])).stdout,
      /^Up /,
    );
    await berthOk(root, ["stop", "-t", "1", "orphan"]);
    assert.match(
      (await berthOk(root, ["ps", "-a", "--filter", "name=orphan", "--format", "{{.Status}}"])).stdout,
      /^Exited \(137\)/,
    );
    assert.deepEqual(
      leftovers(root, o.Id, [o.State.Pid, conmon]).filter((l) => l !== "directory"),
      [],
    );
    // A host restart: every process gone, every mount gone, /run emptied.
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "reboot",
      "-p",
      "127.0.0.1::80",
      "busybox:1",
      "sleep",
      "1000",
    ]);
    const r = await inspect(root, "reboot");
    const rc = Number(readFileSync(join(root, "containers", r.Id, "bundle/conmon.pid"), "utf8"));
    for (const pid of [rc, r.State.Pid]) process.kill(pid, "SIGKILL");
    await waitFor("processes to go", () => !alive(rc) && !alive(r.State.Pid));
    for (const pid of (await run("pgrep", ["-f", `slirp-${r.Id.slice(0, 32)}`])).stdout
      .split("\n")
      .filter(Boolean))
      process.kill(Number(pid), "SIGKILL");
    await run("umount", [join(root, "containers", r.Id, "merged")]);
    await run("ip", ["netns", "delete", `berth-${r.Id}`]);
    assert.match(
      (await berthOk(root, ["ps", "-a", "--filter", "name=reboot", "--format", "{{.Status}}"])).stdout,
      /^Exited \(255\)/,
    );
    await berthOk(root, ["start", "reboot"]);
    const again = await inspect(root, "reboot");
    assert.equal(again.State.Status, "running");
    assert.ok(alive(again.State.Pid));
    const conmon2 = Number(readFileSync(join(root, "containers", r.Id, "bundle/conmon.pid"), "utf8"));
    await berthOk(root, ["rm", "-f", "reboot"]);
    assert.deepEqual(leftovers(root, r.Id, [again.State.Pid, conmon2]), []);
    assert.equal((await berth(root, ["inspect", "reboot"])).code, 1);
  });

  test("restart policies: on-failure:N retries N times; always restarts until stopped", async () => {
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "flaky",
      "--restart",
      "on-failure:2",
      "busybox:1",
      "sh",
      "-c",
      "echo try; exit 3",
    ]);
    await waitFor("two restarts", async () => {
      const i = await inspect(root, "flaky");
      return i.RestartCount === 2 && i.State.Status === "exited";
    });
    assert.equal((await berthOk(root, ["logs", "flaky"])).stdout, "try\ntry\ntry\n");
    assert.equal((await inspect(root, "flaky")).State.ExitCode, 3);
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "looper",
      "--restart",
      "always",
      "busybox:1",
      "sh",
      "-c",
      "sleep 0.3",
    ]);
    await waitFor("a restart", async () => (await inspect(root, "looper")).RestartCount >= 1, 20_000);
    await berthOk(root, ["stop", "looper"]);
    const count = (await inspect(root, "looper")).RestartCount;
    await sleep(800);
    const after = await inspect(root, "looper");
    assert.equal(after.State.Running, false, "a stopped container stays stopped");
    assert.equal(after.RestartCount, count);
    const once = await berth(root, ["run", "--rm", "--restart", "always", "busybox:1", "true"]);
    assert.equal(once.code, 125);
    assert.match(once.stderr, /Conflicting options: --restart and --rm/);
  });

  test("a foreground run cleans up itself; when its berth is killed, conmon's exit command still does", async () => {
    // The usual case: when `run --rm` returns, conmon and its exit command are gone with the container.
    const short = (await berthOk(root, ["run", "--rm", "busybox:1", "hostname"])).stdout.trim();
    assert.match(short, /^[0-9a-f]{12}$/);
    assert.deepEqual(processesNaming(short), []);
    assert.equal((await berth(root, ["ps", "-aq", "--filter", `id=${short}`])).stdout, "");
    // The starter killed while the container runs: once it exits, --rm still removes it, and a
    // container without --rm is recorded as exited with its mount and network freed.
    for (const rm of [true, false]) {
      const name = rm ? "fg-rm" : "fg-keep";
      const args = ["--root", root, "run", ...(rm ? ["--rm"] : []), "--name", name, "busybox:1"];
      // It ends (exit 3) only once told to, after its starter is gone: a fixed `sleep 1` could
      // end before the starter was killed on a loaded machine.
      const body = "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3";
      const starter = start(process.execPath, [BERTH_BIN, ...args, "sh", "-c", body]);
      await waitFor("the container to run", async () => {
        const r = await berth(root, ["ps", "--filter", `name=${name}`, "--format", "{{.Status}}"]);
        return /^Up /.test(r.stdout);
      });
      const c = await inspect(root, name);
      const conmon = Number(readFileSync(join(root, "containers", c.Id, "bundle/conmon.pid"), "utf8"));
      await starter.kill();
      await berthOk(root, ["exec", name, "touch", "/tmp/go"]);
      if (rm) {
        await waitFor(
          "the exit command to remove it",
          async () => (await berth(root, ["inspect", name])).code === 1,
        );
        await waitFor("conmon to go", () => !alive(conmon));
        assert.deepEqual(leftovers(root, c.Id, [c.State.Pid, conmon]), []);
      } else {
        await waitFor("conmon to go", () => !alive(conmon));
        const after = await inspect(root, name);
        assert.equal(after.State.Status, "exited");
        assert.equal(after.State.ExitCode, 3);
        assert.deepEqual(
          leftovers(root, c.Id, [c.State.Pid, conmon]).filter((l) => l !== "directory"),
          [],
        );
        await berthOk(root, ["rm", name]);
      }
    }
  });

  test("two berth processes starting, stopping and removing at once keep the records whole", async () => {
    const names = ["p0", "p1", "p2", "p3"];
    await Promise.all(names.map((n) => berthOk(root, ["create", "--name", n, "busybox:1", "sleep", "1000"])));
    const ids = await Promise.all(names.map(async (n) => (await inspect(root, n)).Id as string));
    const results = await Promise.all([
      berth(root, ["start", ...names]),
      berth(root, ["start", ...names]),
      berth(root, ["stop", "-t", "1", ...names]),
    ]);
    for (const r of results) assert.doesNotMatch(r.stderr, /database|SQLITE|corrupt/i);
    await Promise.all([
      berth(root, ["rm", "-f", ...names]),
      berth(root, ["rm", "-f", ...names.slice().reverse()]),
    ]);
    const left = (await berthOk(root, ["ps", "-a", "--format", "{{.Names}}"])).stdout.split("\n");
    for (const n of names) assert.ok(!left.includes(n), `${n} is removed`);
    for (const id of ids) assert.deepEqual(leftovers(root, id, []), []);
    const db = new Database(join(root, "berth.db"), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    } finally {
      db.close();
    }
  });
});

/** Processes whose command line names a container (conmon names it, and so does its exit command). */
function processesNaming(fragment: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(fragment)) out.push(`${pid} ${cmd}`);
    } catch {}
  }
  return out;
}
