import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { BlobNotFoundError } from "../../src/content/errors.js";
import { ContentStore } from "../../src/content/store.js";
import { digestOf } from "../../src/oci/digest.js";
import { tempDir } from "../helpers/processes.js";
import { contentStoreContract } from "./contract.js";

const MiB = 1024 * 1024;

describe("ContentStore.chunks", () => {
  let root: string;
  let store: ContentStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-content-"));
    store = new ContentStore(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  // Sizes around the 1 MiB read size and past the ring of four buffers.
  for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 4 * MiB, 9 * MiB + 12345]) {
    test(`reads a ${size}-byte blob whole, in order, when each chunk is used before the next`, async () => {
      const data = randomBytes(size);
      const { digest } = await store.writeNew(Readable.from([data]));
      const copies: Buffer[] = [];
      for await (const chunk of store.chunks(digest)) {
        assert.ok(chunk.length > 0 && chunk.length <= MiB);
        copies.push(Buffer.from(chunk));
      }
      assert.ok(Buffer.concat(copies).equals(data));
    });
  }

  test("reuses its buffers: a chunk kept past the ring is overwritten", async () => {
    const data = randomBytes(6 * MiB);
    const { digest } = await store.writeNew(Readable.from([data]));
    const kept: Buffer[] = [];
    for await (const chunk of store.chunks(digest)) kept.push(chunk);
    assert.equal(kept.length, 6);
    assert.equal(kept[0]!.buffer, kept[4]!.buffer, "the fifth chunk is read into the first chunk's buffer");
    assert.notEqual(kept[0]!.buffer, kept[1]!.buffer);
  });

  test("an unknown blob is BlobNotFoundError", async () => {
    const missing = digestOf(Buffer.from("not stored"));
    await assert.rejects(async () => {
      for await (const _ of store.chunks(missing)) assert.fail("no chunk expected");
    }, BlobNotFoundError);
  });
});

contentStoreContract("ContentStore on a local directory", async () => {
  const root = await tempDir("berth-content-contract-");
  return { store: new ContentStore(root), root };
});
