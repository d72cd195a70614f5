import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../helpers/fixtures.js";
import { run, type Server, startBerthRegistry, waitFor } from "../helpers/processes.js";
import { type GcHarness, gcCorrectness, gcExclusive, gcUnderPushes } from "./gc-scenario.js";

// Online garbage collection on the filesystem setup: `berth registry gc` runs as its own process
// while the server keeps serving the same root.
let reg: Server;
let harness: GcHarness;
before(async () => {
  reg = await startBerthRegistry({ config: { gc: { interval: "0" } } });
  harness = {
    bases: [reg.url],
    runGc: (args) =>
      run(process.execPath, [
        join(repoRoot(), "bin/berth.js"),
        "registry",
        "gc",
        "--root",
        reg.root,
        ...args,
      ]),
  };
});
after(async () => {
  await reg.stop();
});

test("gc deletes what nothing references, keeps shared, referenced and recent things", async () => {
  await gcCorrectness(harness, "fs");
});

test("a second gc exits with a clear message, or waits with --wait; a stale lock is taken over", async () => {
  const lock = join(reg.root, "gc.lock");
  await gcExclusive(harness, async () => {
    // Held by a live process: the registry server's own pid stands in for another collector.
    await writeFile(lock, `${reg.proc.pid}\n`);
    return () => rm(lock, { force: true });
  });
  await writeFile(lock, "999999999\n");
  const stale = await harness.runGc(["--grace", "0"]);
  assert.equal(stale.code, 0, stale.stderr);
});

test("gc looping while pushes run deletes nothing a pushed tag needs", async () => {
  await gcUnderPushes(harness, "fs", 16);
});

test("scheduled gc in the server (gc.interval) frees an orphaned blob", async () => {
  const sched = await startBerthRegistry({ config: { gc: { interval: "1s", grace: "0" } } });
  try {
    const { pushBlob, call } = await import("./api-client.js");
    const digest = await pushBlob(sched.url, "sched/app", Buffer.alloc(1234, 1));
    await waitFor(
      "the scheduled collection to free the blob",
      async () => (await call(sched.url, "HEAD", `/v2/sched/app/blobs/${digest}`)).status === 404,
    );
    assert.match(sched.logs(), /garbage collection done/);
  } finally {
    await sched.stop();
  }
});
