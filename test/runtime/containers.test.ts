import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
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
import { treeDigest } from "./tree.js";

describe("containers on runc + conmon", () => {
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

  test("output, exit status, pid 1 and the hostname inside", async () => {
    const r = await berth(root, [
      "run",
      "--name",
      "out1",
      "busybox:1",
      "sh",
      "-c",
      "echo out; echo err >&2; echo $$; hostname; exit 7",
    ]);
    assert.equal(r.code, 7);
    const id = (await inspect(root, "out1")).Id as string;
    assert.equal(r.stdout, `out\n1\n${id.slice(0, 12)}\n`);
    assert.equal(r.stderr, "err\n");
    const ps = (await berthOk(root, ["ps", "-a", "--filter", "name=out1"])).stdout.split("\n");
    assert.match(ps[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.match(
      ps[1]!,
      new RegExp(
        `^${id.slice(0, 12)}\\s+busybox:1\\s+"sh -c 'echo out; …"|^${id.slice(0, 12)}\\s+busybox:1\\s+"sh -c echo out; ech…"`,
      ),
    );
    assert.match(ps[1]!, /Exited \(7\) (Less than a second|\d+ seconds?) ago\s+out1$/);
    const rm = await berth(root, ["run", "--rm", "--hostname", "box", "busybox:1", "hostname"]);
    assert.equal(rm.stdout, "box\n");
    assert.equal(
      (await berthOk(root, ["ps", "-aq", "--filter", "name=out1"])).stdout.trim(),
      id.slice(0, 12),
    );
  });

  test("the image config: entrypoint, cmd, user, working directory and env (app-1)", async () => {
    assert.equal((await berth(root, ["run", "--rm", "app:1"])).stdout, "hello from app\n");
    const r = await berth(root, ["run", "--rm", "app:1", "id -u; pwd; echo $APP_HOME; echo $HOME"]);
    assert.equal(r.stdout, "65534\n/srv/app\n/srv/app\n/nonexistent\n");
    const u = await berth(root, [
      "run",
      "--rm",
      "-u",
      "app",
      "-w",
      "/tmp/made",
      "-e",
      "X=1",
      "--entrypoint",
      "sh",
      "app:1",
      "-c",
      "id; pwd; echo $X",
    ]);
    assert.equal(u.stdout, "uid=1000(app) gid=1000(app)\n/tmp/made\n1\n");
  });

  test("exit statuses: 127 not found, 126 not executable, 125 when Berth fails", async () => {
    const nf = await berth(root, ["run", "--name", "nf", "busybox:1", "nosuch"]);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /executable file not found in \$PATH/);
    assert.equal((await inspect(root, "nf")).State.ExitCode, 127);
    assert.equal((await inspect(root, "nf")).State.Status, "created");
    assert.equal((await berth(root, ["run", "--rm", "busybox:1", "/etc/passwd"])).code, 126);
    const bad = await berth(root, ["run", "--rm", "--pull", "never", "nosuch-image:1"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /No such image: nosuch-image:1/);
    assert.equal((await berth(root, ["run", "--rm", "-u", "ghost", "busybox:1", "true"])).code, 125);
    assert.deepEqual(
      leftovers(root, (await inspect(root, "nf")).Id, []).filter((l) => l !== "directory"),
      [],
    );
  });

  test("writes land in the container's layer; two containers share the image's layers and never see each other", async () => {
    const layerDir = (
      await berthOk(root, ["image", "inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", "busybox:1"])
    ).stdout.trim();
    const before = await treeDigest(layerDir);
    await berthOk(root, [
      "run",
      "--name",
      "w1",
      "busybox:1",
      "sh",
      "-c",
      "echo one > /etc/mine; rm /etc/group",
    ]);
    await berthOk(root, ["run", "--name", "w2", "busybox:1", "sh", "-c", "echo two > /etc/mine"]);
    const a = await inspect(root, "w1");
    const b = await inspect(root, "w2");
    assert.equal(await readFile(join(a.GraphDriver.Data.UpperDir, "etc/mine"), "utf8"), "one\n");
    assert.equal(await readFile(join(b.GraphDriver.Data.UpperDir, "etc/mine"), "utf8"), "two\n");
    const lowerA = (a.GraphDriver.Data.LowerDir as string).split(":").slice(1);
    assert.deepEqual(lowerA, (b.GraphDriver.Data.LowerDir as string).split(":").slice(1));
    assert.ok(lowerA.includes(layerDir), "the image's layer directory is a lower dir of both");
    assert.equal(await treeDigest(layerDir), before, "the image's layer is unchanged");
    await berthOk(root, ["start", "w2"]);
    const r = await berth(root, [
      "run",
      "--rm",
      "busybox:1",
      "sh",
      "-c",
      "cat /etc/mine; test -f /etc/group && echo group",
    ]);
    assert.equal(r.stdout, "group\n", "a new container sees neither change");
    assert.deepEqual((await berthOk(root, ["diff", "w1"])).stdout.split("\n").filter(Boolean), [
      "C /etc",
      "D /etc/group",
      "A /etc/mine",
    ]);
  });

  test("logs: stdout and stderr apart, --tail, -t, -f until the container stops", async () => {
    const id = (
      await berthOk(root, [
        "run",
        "-d",
        "--name",
        "logger",
        "busybox:1",
        "sh",
        "-c",
        "for i in 1 2 3; do echo out$i; echo err$i >&2; done; sleep 1; echo last",
      ])
    ).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const follow = await berth(root, ["logs", "-f", "logger"]);
    assert.equal(follow.stdout, "out1\nout2\nout3\nlast\n");
    assert.equal(follow.stderr, "err1\nerr2\nerr3\n");
    assert.equal((await berthOk(root, ["logs", "--tail", "2", "logger"])).stdout, "last\n");
    assert.match(
      (await berthOk(root, ["logs", "-t", "--tail", "1", "logger"])).stdout,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z last\n$/,
    );
    assert.equal((await berthOk(root, ["wait", "logger"])).stdout, "0\n");
  });

  test("stop sends the stop signal, then KILL after -t; kill -s; restart", async () => {
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "trapper",
      "busybox:1",
      "sh",
      "-c",
      "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    // The trap is set once the container says so (a fixed pause is too short on a loaded machine).
    const trapSet = (times: number) =>
      waitFor("the trap to be set", async () => {
        const out = (await berthOk(root, ["logs", "trapper"])).stdout;
        return out.split("ready\n").length - 1 >= times;
      });
    await trapSet(1);
    await berthOk(root, ["stop", "trapper"]);
    assert.equal((await inspect(root, "trapper")).State.ExitCode, 42);
    assert.equal((await berthOk(root, ["logs", "trapper"])).stdout, "ready\ngot-term\n");
    // pid 1 without a handler ignores TERM: stop kills it after the timeout.
    await berthOk(root, ["run", "-d", "--name", "stubborn", "busybox:1", "sleep", "1000"]);
    await berthOk(root, ["stop", "-t", "1", "stubborn"]);
    assert.match(
      (await berthOk(root, ["ps", "-a", "--filter", "name=stubborn", "--format", "{{.Status}}"])).stdout,
      /^Exited \(137\) /,
    );
    await berthOk(root, ["start", "trapper"]);
    await trapSet(2);
    await berthOk(root, ["kill", "-s", "TERM", "trapper"]);
    await waitFor("TERM to end it", async () => (await inspect(root, "trapper")).State.Running === false);
    assert.equal((await inspect(root, "trapper")).State.ExitCode, 42);
    assert.equal((await berthOk(root, ["logs", "trapper"])).stdout, "ready\ngot-term\nready\ngot-term\n");
    await berthOk(root, ["start", "trapper"]);
    await berthOk(root, ["kill", "trapper"]);
    await waitFor("KILL to end it", async () => (await inspect(root, "trapper")).State.Running === false);
    assert.equal((await inspect(root, "trapper")).State.ExitCode, 137);
    await berthOk(root, ["restart", "-t", "1", "stubborn"]);
    assert.equal((await inspect(root, "stubborn")).State.Status, "running");
    const kill = await berth(root, ["kill", "trapper"]);
    assert.equal(kill.code, 1);
    assert.match(kill.stderr, /is not running/);
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

  test("bad input: a taken name, -p, -v, rm of a running container, a port held by another program", async () => {
    const before = (await berthOk(root, ["ps", "-aq"])).stdout;
    const holder = (await inspect(root, "stubborn")).Id;
    const name = await berth(root, ["run", "--name", "stubborn", "busybox:1", "true"]);
    assert.equal(name.code, 125);
    assert.match(
      name.stderr,
      new RegExp(`Conflict\\. The container name "/stubborn" is already in use by container "${holder}"`),
    );
    for (const args of [
      ["-p", "80:80:80:80"],
      ["-p", "99999:80"],
      ["-v", "relative:dir"],
      ["-v", "/a:relative"],
      ["--restart", "sometimes"],
      ["--memory", "lots"],
    ]) {
      const r = await berth(root, ["run", ...args, "busybox:1", "true"]);
      assert.equal(r.code, 125, args.join(" "));
    }
    assert.equal((await berthOk(root, ["ps", "-aq"])).stdout, before, "nothing was created");
    const rm = await berth(root, ["rm", "stubborn"]);
    assert.equal(rm.code, 1);
    assert.match(
      rm.stderr,
      /cannot remove container "\/stubborn": container is running: stop the container before removing or force remove/,
    );
    const server = createServer(() => {});
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    const held = await berth(root, ["run", "--rm", "-p", `127.0.0.1:${port}:80`, "busybox:1", "true"]);
    server.close();
    assert.equal(held.code, 125);
    assert.match(held.stderr, /port is already allocated/);
    assert.equal((await berth(root, ["inspect", "nosuch"])).code, 1);
    assert.equal(
      (await berth(root, ["stop", "nosuch"])).stderr,
      "Error response from daemon: No such container: nosuch\n",
    );
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
      const starter = start(process.execPath, [BERTH_BIN, ...args, "sh", "-c", "sleep 1; exit 3"]);
      await waitFor("the container to run", async () => {
        const r = await berth(root, ["ps", "--filter", `name=${name}`, "--format", "{{.Status}}"]);
        return /^Up /.test(r.stdout);
      });
      const c = await inspect(root, name);
      const conmon = Number(readFileSync(join(root, "containers", c.Id, "bundle/conmon.pid"), "utf8"));
      await starter.kill();
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
