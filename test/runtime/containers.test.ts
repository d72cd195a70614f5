import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort, tempDir } from "../helpers/processes.js";
import { berth, berthOk, inspect, leftovers, storeWithFixtures, waitFor } from "./helpers.js";
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
    for (const flag of ["--network", "--net"]) {
      const none = await berth(root, ["run", "--rm", flag, "none", "busybox:1", "ls", "/sys/class/net"]);
      assert.equal(none.stdout, "lo\n", `${flag} none: loopback only`);
    }
    const slirp = await berth(root, ["run", "--rm", "busybox:1", "ls", "/sys/class/net"]);
    assert.equal(slirp.stdout, "lo\ntap0\n", "the default network: slirp4netns's tap0");
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
    // Docker sets the gid as a group too: id shows groups=1000(app), as under dockerd.
    assert.equal(u.stdout, "uid=1000(app) gid=1000(app) groups=1000(app)\n/tmp/made\n1\n");
  });

  // Issue 15: `create --env-file` with 20,000 variables took 80 s (a quadratic merge of the
  // environment); Docker and podman take seconds. Quadratic code would not finish in this test's time.
  test("an --env-file of 20,000 variables: create, run and exec take them all", {
    timeout: 60_000,
  }, async () => {
    const dir = await tempDir("berth-envfile-");
    const file = join(dir, "big.env");
    await writeFile(file, `${Array.from({ length: 20_000 }, (_, i) => `VAR_${i}=value-${i}`).join("\n")}\n`);
    await berthOk(root, [
      "create",
      "--name",
      "manyenv",
      "--env-file",
      file,
      "-e",
      "VAR_7=flag",
      "busybox:1",
      "sleep",
      "1000",
    ]);
    // Config.Env is what the user gave, as dockerd keeps it (the file's entries, then -e, then the
    // image's that neither names); the process's environment below has one entry per name.
    const env = (await inspect(root, "manyenv")).Config.Env as string[];
    assert.equal(env.filter((e) => e.startsWith("VAR_")).length, 20_001);
    assert.equal(env[0], "VAR_0=value-0");
    assert.equal(env[20_000], "VAR_7=flag");
    assert.match(env.at(-1)!, /^PATH=/);
    await berthOk(root, ["start", "manyenv"]);
    const seen = await berthOk(root, [
      "exec",
      "-e",
      "VAR_8=exec",
      "manyenv",
      "sh",
      "-c",
      "env | grep -c ^VAR_; echo $VAR_7 $VAR_8 $VAR_19999",
    ]);
    assert.equal(seen.stdout, "20000\nflag exec value-19999\n");
    await berthOk(root, ["rm", "-f", "manyenv"]);
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
});
