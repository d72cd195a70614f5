import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { LocalStore } from "../../src/images/local-store.js";
import { resolveLocalImage } from "../../src/images/resolve.js";
import { Containers } from "../../src/runtime/containers.js";
import { execInContainer } from "../../src/runtime/exec.js";
import { runInForeground } from "../../src/runtime/foreground.js";
import { BERTH_BIN } from "../client/berth.js";
import { leftovers, storeWithFixtures } from "./helpers.js";

/** The runtime as a library, as the Engine API will drive it: streams in, nothing printed. */
describe("the runtime library: a foreground run and exec write to the streams they are given", () => {
  let root: string;
  let store: LocalStore;
  let containers: Containers;
  const collector = () => {
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
  };

  before(async () => {
    root = await storeWithFixtures();
    store = new LocalStore(root);
    containers = new Containers(store, {
      cleanupCommand: (id) => [process.execPath, BERTH_BIN, "--root", root, "container", "cleanup", id],
    });
  });
  after(async () => {
    for (const c of containers?.list() ?? []) await containers.remove(c.id, { force: true }).catch(() => {});
    store?.close();
  });

  const create = (args: string[], autoRemove = false) =>
    containers.create({
      imageId: resolveLocalImage(store.db, "busybox:1").imageId,
      image: "busybox:1",
      process: { cmd: args, env: ["GREETING=hi"], tty: false },
      network: "none",
      autoRemove,
    });

  test("output to the given streams, the exit status, the record settled; with remove, nothing left", async () => {
    const rec = await create(["sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 5']);
    const out = collector();
    const err = collector();
    let started = false;
    const code = await runInForeground(containers, rec.id, {
      output: { stdout: out.stream, stderr: err.stream },
      remove: false,
      started: () => {
        started = true;
      },
    });
    assert.equal(code, 5);
    assert.equal(out.text(), "hi\n");
    assert.equal(err.text(), "oops\n");
    assert.ok(started);
    const after = containers.find(rec.id);
    assert.equal(after.state, "exited");
    assert.equal(after.exitCode, 5);
    assert.deepEqual(
      leftovers(root, rec.id, [after.conmonPid ?? 0]).filter((l) => l !== "directory"),
      [],
    );

    const gone = await create(["echo", "bye"], true);
    const out2 = collector();
    assert.equal(
      await runInForeground(containers, gone.id, {
        output: { stdout: out2.stream, stderr: collector().stream },
        remove: true,
      }),
      0,
    );
    assert.equal(out2.text(), "bye\n");
    assert.throws(() => containers.find(gone.id), /No such container/);
    assert.deepEqual(leftovers(root, gone.id, []), []);
  });

  test("a start that fails is thrown, and a container with --rm is removed", async () => {
    const rec = await create(["no-such-command"], true);
    await assert.rejects(
      runInForeground(containers, rec.id, {
        output: { stdout: collector().stream, stderr: collector().stream },
        remove: true,
      }),
      (e: unknown) => (e as { exitCode?: number }).exitCode === 127,
    );
    assert.throws(() => containers.find(rec.id), /No such container/);
    assert.deepEqual(leftovers(root, rec.id, []), []);
  });

  test("exec: stdin, stdout and stderr are streams without descriptors; -e over the container's env", async () => {
    const rec = await create(["sleep", "1000"]);
    await containers.start(rec.id);
    const out = collector();
    const err = collector();
    const stdin = new PassThrough();
    stdin.end("from stdin\n");
    const code = await execInContainer(
      containers,
      rec.id,
      {
        args: ["sh", "-c", 'cat; echo "$GREETING $EXTRA"; id -un; pwd; echo e >&2; exit 2'],
        env: ["EXTRA=x"],
        interactive: true,
        workdir: "/tmp",
      },
      { stdin, stdout: out.stream, stderr: err.stream },
    );
    assert.equal(code, 2);
    assert.equal(out.text(), "from stdin\nhi x\nroot\n/tmp\n");
    assert.equal(err.text(), "e\n");
    await assert.rejects(
      execInContainer(containers, rec.id, { args: ["no-such-command"] }, {}),
      (e: unknown) => (e as { exitCode?: number }).exitCode === 127,
    );
    await containers.remove(rec.id, { force: true });
    await assert.rejects(
      execInContainer(containers, "no-such-container", { args: ["true"] }),
      /No such container/,
    );
  });
});
