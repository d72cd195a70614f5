import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ImageDb } from "../../src/images/db.js";
import { ContainerDb, imagesWithContainers } from "../../src/runtime/records.js";
import type { ContainerSettings } from "../../src/runtime/settings.js";

test("the images containers use, read without creating the runtime's table", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-users-"));
  const db = ImageDb.open(join(dir, "berth.db"));
  try {
    const conn = db.connection;
    assert.deepEqual(imagesWithContainers(conn), new Set());
    const table = () => conn.prepare("SELECT 1 FROM sqlite_master WHERE name = 'containers'").get();
    assert.equal(table(), undefined, "a store where nothing ran gets no containers table from df");
    const containers = new ContainerDb(conn);
    const image = `sha256:${"e".repeat(64)}`;
    for (const [i, id] of ["1", "2"].entries()) {
      containers.insert({
        id: id.repeat(64),
        name: `c${i}`,
        imageId: image,
        image: "busybox",
        settings: {} as ContainerSettings,
        state: i === 0 ? "running" : "exited",
        pid: null,
        pidStart: null,
        conmonPid: null,
        conmonStart: null,
        slirpPid: null,
        slirpStart: null,
        exitCode: 0,
        error: "",
        created: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        restartCount: 0,
        stoppedByUser: false,
        lockPid: null,
        lockStart: null,
      });
    }
    assert.deepEqual(imagesWithContainers(conn), new Set([image]));
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
