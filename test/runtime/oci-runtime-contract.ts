import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { isAlive } from "../../src/liveness.js";
import { DEFAULT_PATH } from "../../src/runtime/defaults.js";
import { CommandStartError, RuntimeError } from "../../src/runtime/errors.js";
import type { CreatedContainer, OciRuntime } from "../../src/runtime/oci-runtime.js";
import { mountOverlay, unmount } from "../../src/runtime/overlay.js";
import { sandboxSpec } from "../../src/runtime/sandbox-spec.js";
import type { SandboxSettings } from "../../src/runtime/settings.js";
import { derivedSpec, withCwd, withEnv, withProcessArgs, withUser } from "../../src/runtime/spec-opts.js";
import { berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";
import { tempDir } from "../helpers/processes.js";
import { cgroupDirs, waitFor } from "./helpers.js";

/**
 * What Berth needs of an OCI runtime (src/runtime/oci-runtime.ts), checked against a real one:
 * create then start, the exit status, output to a log or to streams, state, kill, exec, pause,
 * delete, and the errors of a bundle that is missing or wrong. A runtime that passes can run
 * Berth's containers. Each container here runs busybox over an overlay of the fixture's layer,
 * with the spec Berth gives every container (sandbox-spec.ts).
 *
 * `make(stateRoot)` gives the runtime under test, its state kept in `stateRoot`.
 */
export function ociRuntimeContract(name: string, make: (stateRoot: string) => OciRuntime): void {
  describe(`OCI runtime contract: ${name}`, () => {
    let dir: string;
    let rootfs: string;
    let runtime: OciRuntime;
    const run = randomBytes(4).toString("hex");
    const made: { id: string; created?: CreatedContainer }[] = [];
    let n = 0;

    before(async () => {
      const store = await tempRoot("berth-contract-store-");
      await berthOk(store, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
      const layer = join(store, "layers", readdirSync(join(store, "layers"))[0]!, "diff");
      dir = await tempDir("berth-contract-");
      for (const d of ["upper", "work", "merged", "state", "sock"]) await mkdir(join(dir, d));
      rootfs = join(dir, "merged");
      await mountOverlay({
        lowers: [layer],
        upper: join(dir, "upper"),
        work: join(dir, "work"),
        target: rootfs,
      });
      runtime = make(join(dir, "state"));
    });

    after(async () => {
      for (const c of made) {
        await runtime.delete(c.id, { force: true }).catch(() => {});
        const m = c.created?.monitor;
        if (m && isAlive(m.pid, m.start)) process.kill(m.pid, "SIGKILL");
      }
      if (rootfs) await unmount(rootfs);
    });

    /** A bundle whose process runs `args` with Berth's container spec; cgroup and id unique to this run. */
    async function bundle(
      args: string[],
      over: Partial<SandboxSettings> = {},
    ): Promise<{ id: string; bundle: string }> {
      const id = `contract-${run}-${++n}`;
      const b = join(dir, id);
      await mkdir(join(b, "exits"), { recursive: true });
      const settings: SandboxSettings = {
        hostname: id.slice(-12),
        user: "",
        env: [DEFAULT_PATH],
        args,
        workingDir: "/",
        tty: false,
        openStdin: false,
        stdinOnce: false,
        network: "none",
        ports: [],
        mounts: [],
        limits: {},
        readOnly: false,
        init: false,
        ...over,
      };
      const spec = sandboxSpec(settings, {
        rootfs,
        user: { uid: 0, gid: 0, additionalGids: [], home: "/root" },
        etc: {},
        cgroupsPath: `berth-${id}`,
      });
      await writeFile(join(b, "config.json"), JSON.stringify(spec));
      made.push({ id });
      return { id, bundle: b };
    }

    function collector(): { stream: Writable; text: () => string } {
      const chunks: Buffer[] = [];
      return {
        stream: new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
        }),
        text: () => Buffer.concat(chunks).toString(),
      };
    }

    /** Creates with the output to streams. */
    async function createPiped(args: string[], over: Partial<SandboxSettings> = {}) {
      const b = await bundle(args, over);
      const out = collector();
      const err = collector();
      const created = await runtime.create({
        id: b.id,
        bundle: b.bundle,
        exitDir: join(b.bundle, "exits"),
        io: { mode: "pipes", socketDir: join(dir, "sock"), stdout: out.stream, stderr: err.stream },
      });
      made.find((m) => m.id === b.id)!.created = created;
      return { ...b, created, stdout: out.text, stderr: err.text };
    }

    /** Creates detached, the output in a k8s-file log. */
    async function createLogged(args: string[]) {
      const b = await bundle(args);
      const created = await runtime.create({
        id: b.id,
        bundle: b.bundle,
        exitDir: join(b.bundle, "exits"),
        io: {
          mode: "log",
          logPath: join(b.bundle, "ctr.log"),
          socketDir: join(dir, "sock"),
          stdin: false,
          leaveStdinOpen: false,
          tty: false,
        },
      });
      made.find((m) => m.id === b.id)!.created = created;
      return { ...b, created };
    }

    const exitFile = (b: { id: string; bundle: string }) => join(b.bundle, "exits", b.id);
    async function exitStatus(b: { id: string; bundle: string }): Promise<number> {
      await waitFor(
        "the exit file",
        () => existsSync(exitFile(b)) && readFileSync(exitFile(b), "utf8") !== "",
      );
      return Number(readFileSync(exitFile(b), "utf8"));
    }

    test("create makes the process, which runs only once started; its output and exit status come back", async () => {
      const c = await createPiped(["sh", "-c", `echo out; echo err >&2; touch /ran-${run}; exit 7`]);
      assert.ok(c.created.init.pid > 0);
      assert.ok(isAlive(c.created.init.pid, c.created.init.start), "the container's init process exists");
      assert.equal((await runtime.state(c.id))?.status, "created");
      assert.equal(existsSync(join(dir, "upper", `ran-${run}`)), false, "nothing ran before start");
      await runtime.start(c.id, c.created.init);
      await c.created.ended;
      assert.equal(c.stdout(), "out\n");
      assert.equal(c.stderr(), "err\n");
      assert.equal(await exitStatus(c), 7);
      assert.ok(existsSync(join(dir, "upper", `ran-${run}`)));
      assert.equal((await runtime.state(c.id))?.status, "stopped");
    });

    test("start without the init process known (the runtime's own start)", async () => {
      const c = await createPiped(["sh", "-c", "echo started"]);
      await runtime.start(c.id);
      await c.created.ended;
      assert.equal(c.stdout(), "started\n");
      assert.equal(await exitStatus(c), 0);
    });

    test("a detached container: output in the log, the monitor outlives the creator's wait, the exit status written", async () => {
      const c = await createLogged(["sh", "-c", "echo to-log; echo to-err >&2; exit 3"]);
      assert.ok(c.created.monitor && c.created.monitor.pid > 0, "the monitor's pid is known");
      assert.equal(c.created.ended, undefined);
      await runtime.start(c.id, c.created.init);
      assert.equal(await exitStatus(c), 3);
      const log = readFileSync(join(c.bundle, "ctr.log"), "utf8");
      assert.match(log, /^\S+ stdout F to-log$/m);
      assert.match(log, /^\S+ stderr F to-err$/m);
      await waitFor("the monitor to exit", () => !isAlive(c.created.monitor!.pid, c.created.monitor!.start));
    });

    test("state: created, running, paused, stopped; none for a container it does not know", async () => {
      const c = await createLogged(["sleep", "1000"]);
      assert.equal((await runtime.state(c.id))?.status, "created");
      await runtime.start(c.id, c.created.init);
      const running = await runtime.state(c.id);
      assert.equal(running?.status, "running");
      assert.equal(running?.pid, c.created.init.pid);
      assert.deepEqual(await runtime.ps(c.id), [c.created.init.pid]);
      await runtime.pause(c.id);
      assert.equal((await runtime.state(c.id))?.status, "paused");
      await runtime.resume(c.id);
      assert.equal((await runtime.state(c.id))?.status, "running");
      await runtime.kill(c.id, 9);
      assert.equal(await exitStatus(c), 137);
      await waitFor("stopped", async () => (await runtime.state(c.id))?.status === "stopped");
      assert.equal(await runtime.state(`never-created-${run}`), undefined);
    });

    test("kill: a signal to init, or to every process; an unknown container is an error", async () => {
      const c = await createLogged(["sh", "-c", "trap 'exit 42' TERM; sleep 1000 & wait"]);
      await runtime.start(c.id, c.created.init);
      await waitFor("the trap to be set", async () => (await runtime.ps(c.id)).length === 2);
      await runtime.kill(c.id, 15);
      assert.equal(await exitStatus(c), 42, "the process's own handler ran");
      const all = await createLogged(["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
      await runtime.start(all.id, all.created.init);
      await waitFor("two processes", async () => (await runtime.ps(all.id)).length === 3);
      await runtime.kill(all.id, 9, true);
      assert.equal(await exitStatus(all), 137);
      await assert.rejects(runtime.kill(`never-created-${run}`, 9), RuntimeError);
    });

    test("exec: a process in the running container as its spec says; 127 for a missing command; detached", async () => {
      const c = await createLogged(["sleep", "1000"]);
      await runtime.start(c.id, c.created.init);
      const base = JSON.parse(readFileSync(join(c.bundle, "config.json"), "utf8"));
      const proc = derivedSpec(
        base,
        withProcessArgs(["sh", "-c", 'id -u; echo "$FOO"; pwd; echo oops >&2; exit 3']),
        withEnv([DEFAULT_PATH, "FOO=bar"]),
        withCwd("/tmp"),
        withUser({ uid: 1000, gid: 1000, additionalGids: [] }),
      ).process;
      const out = collector();
      const err = collector();
      assert.equal(await runtime.exec(c.id, proc, { stdout: out.stream, stderr: err.stream }), 3);
      assert.equal(out.text(), "1000\nbar\n/tmp\n");
      assert.equal(err.text(), "oops\n");
      await assert.rejects(
        runtime.exec(c.id, { ...proc, args: ["no-such-command"] }),
        (e: unknown) => e instanceof CommandStartError && e.exitCode === 127,
      );
      assert.equal(
        await runtime.exec(
          c.id,
          { ...proc, args: ["sh", "-c", `sleep 0.2; touch /tmp/detached-${run}`] },
          { detach: true },
        ),
        0,
      );
      await waitFor("the detached process to run", () =>
        existsSync(join(dir, "upper", "tmp", `detached-${run}`)),
      );
      await assert.rejects(runtime.exec(`never-created-${run}`, proc), RuntimeError);
      await runtime.kill(c.id, 9);
      await exitStatus(c);
    });

    test("delete: a stopped container's state and cgroups go; a running one with force; an unknown one is no error", async () => {
      const c = await createPiped(["true"]);
      await runtime.start(c.id, c.created.init);
      await c.created.ended;
      const groups = cgroupDirs(c.id);
      assert.ok(
        groups.some((g) => existsSync(g)),
        "the runtime made the container's cgroups",
      );
      await runtime.delete(c.id);
      assert.equal(await runtime.state(c.id), undefined);
      assert.deepEqual(
        groups.filter((g) => existsSync(g)),
        [],
      );
      const r = await createLogged(["sleep", "1000"]);
      await runtime.start(r.id, r.created.init);
      await runtime.delete(r.id, { force: true });
      assert.equal(await runtime.state(r.id), undefined);
      await waitFor(
        "the killed process to be gone",
        () => !isAlive(r.created.init.pid, r.created.init.start),
      );
      await runtime.delete(`never-created-${run}`);
    });

    test("bad input: a missing bundle, a config that is not JSON, a missing root, a command not found or not executable", async () => {
      const create = (id: string, bundle: string) =>
        runtime.create({
          id,
          bundle,
          exitDir: join(bundle, "exits"),
          io: {
            mode: "pipes",
            socketDir: join(dir, "sock"),
            stdout: collector().stream,
            stderr: collector().stream,
          },
        });
      const missing = `contract-${run}-missing`;
      made.push({ id: missing });
      await assert.rejects(create(missing, join(dir, "no-such-bundle")), RuntimeError);

      const notJson = await bundle(["true"]);
      await writeFile(join(notJson.bundle, "config.json"), "{ not json");
      await assert.rejects(create(notJson.id, notJson.bundle), RuntimeError);

      const noRoot = await bundle(["true"]);
      const spec = JSON.parse(readFileSync(join(noRoot.bundle, "config.json"), "utf8"));
      spec.root.path = join(dir, "no-such-root");
      await writeFile(join(noRoot.bundle, "config.json"), JSON.stringify(spec));
      await assert.rejects(create(noRoot.id, noRoot.bundle), RuntimeError);

      const notFound = await bundle(["no-such-command"]);
      await assert.rejects(
        create(notFound.id, notFound.bundle),
        (e: unknown) =>
          e instanceof CommandStartError && e.exitCode === 127 && /executable file not found/.test(e.message),
      );
      const notExecutable = await bundle(["/etc/passwd"]);
      await assert.rejects(
        create(notExecutable.id, notExecutable.bundle),
        (e: unknown) => e instanceof CommandStartError && e.exitCode === 126,
      );
      for (const id of [missing, notJson.id, noRoot.id, notFound.id, notExecutable.id])
        assert.equal(
          await runtime.state(id),
          undefined,
          `${id}: the runtime keeps nothing of a failed create`,
        );
    });
  });
}
