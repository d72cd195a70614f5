import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { DigestMismatchError, SizeMismatchError } from "../../src/content/errors.js";
import type { ContentStore } from "../../src/content/store.js";
import { type Digest, digestOf } from "../../src/oci/digest.js";

async function readAll(store: ContentStore, digest: Digest, start = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.reader(digest, start)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The content store's contract, after containerd's content testsuite: a blob is visible only
 * once committed with the digest and size it was expected to have; a partial ingest can be
 * resumed (by the same or a later writer, after the writer died, from the start when the
 * source cannot seek); committing what exists is a no-op; a wrong digest or size commits
 * nothing and leaves nothing.
 */
export function contentStoreContract(
  name: string,
  make: () => Promise<{ store: ContentStore; root: string }>,
): void {
  describe(`content store contract: ${name}`, () => {
    test("a blob appears only when committed, verified, at its digest", async () => {
      const { store } = await make();
      const data = randomBytes(300_000);
      const digest = digestOf(data);
      const ingest = (await store.ingest({ digest, size: data.length }))!;
      await ingest.write(data.subarray(0, 1000));
      assert.equal(await store.has(digest), false, "not visible while written");
      await ingest.write(data.subarray(1000));
      assert.equal(await store.has(digest), false, "not visible before the commit");
      assert.equal(await ingest.commit(), data.length);
      assert.ok((await readAll(store, digest)).equals(data));
      assert.ok(
        (await readAll(store, digest, 299_000)).equals(data.subarray(299_000)),
        "read from an offset",
      );
    });

    test("resume: a later writer continues where a closed one stopped", async () => {
      const { store } = await make();
      const data = randomBytes(200_000);
      const digest = digestOf(data);
      const first = (await store.ingest({ digest, size: data.length }))!;
      await first.write(data.subarray(0, 70_000));
      await first.close();
      const second = (await store.ingest({ digest, size: data.length }))!;
      assert.equal(second.offset, 70_000);
      const previously = [];
      for await (const c of second.written()) previously.push(c);
      assert.ok(
        Buffer.concat(previously).equals(data.subarray(0, 70_000)),
        "what is on disk can be read back",
      );
      await second.write(data.subarray(70_000));
      await second.commit();
      assert.ok((await readAll(store, digest)).equals(data));
    });

    test("resume: the ingest of a writer that died is taken over", async () => {
      const { store, root } = await make();
      const data = randomBytes(50_000);
      const digest = digestOf(data);
      const first = (await store.ingest({ digest, size: data.length }))!;
      await first.write(data.subarray(0, 10_000));
      // A dead process's lock: a pid that exited a moment ago.
      const dead = spawnSync("true").pid;
      const ingestDir = join(root, "ingest", `${digest.algorithm}-${digest.hex}`);
      await writeFile(join(ingestDir, "lock"), String(dead));
      const second = (await store.ingest({ digest, size: data.length }))!;
      assert.equal(second.offset, 10_000);
      await second.write(data.subarray(10_000));
      await second.commit();
      assert.ok((await readAll(store, digest)).equals(data));
    });

    test("resume: a source that starts over truncates what the ingest held", async () => {
      const { store } = await make();
      const data = randomBytes(40_000);
      const digest = digestOf(data);
      const first = (await store.ingest({ digest, size: data.length }))!;
      await first.write(Buffer.alloc(25_000, 1));
      await first.close();
      const second = (await store.ingest({ digest, size: data.length }))!;
      await second.truncate();
      assert.equal(second.offset, 0);
      await second.write(data);
      await second.commit();
      assert.ok((await readAll(store, digest)).equals(data));
    });

    test("resume over wrong bytes: the commit refuses them and discards the partial data", async () => {
      const { store, root } = await make();
      const data = randomBytes(40_000);
      const digest = digestOf(data);
      const first = (await store.ingest({ digest, size: data.length }))!;
      await first.write(Buffer.alloc(20_000, 7));
      await first.close();
      const second = (await store.ingest({ digest, size: data.length }))!;
      await second.write(data.subarray(20_000));
      await assert.rejects(second.commit(), DigestMismatchError);
      assert.equal(await store.has(digest), false);
      assert.deepEqual(await readdir(join(root, "ingest")), [], "nothing left to resume from");
      await store.write({ digest, size: data.length }, Readable.from([data]));
      assert.ok((await readAll(store, digest)).equals(data), "a clean write after that works");
    });

    test("committing a blob that exists is a no-op, and two writers of one blob end with one copy", async () => {
      const { store } = await make();
      const data = randomBytes(100_000);
      const digest = digestOf(data);
      const [a, b] = await Promise.all([
        store.write({ digest, size: data.length }, Readable.from([data])),
        store.write({ digest, size: data.length }, Readable.from([data])),
      ]);
      assert.equal(a, data.length);
      assert.equal(b, data.length);
      assert.equal(
        await store.ingest({ digest, size: data.length }),
        undefined,
        "no ingest for a committed blob",
      );
      assert.equal(await store.write({ digest }, Readable.from([Buffer.from("ignored")])), data.length);
      assert.ok((await readAll(store, digest)).equals(data));
    });

    test("a wrong digest, too few or too many bytes commit nothing", async () => {
      const { store, root } = await make();
      const data = randomBytes(10_000);
      const digest = digestOf(data);
      await assert.rejects(
        store.write({ digest, size: data.length }, Readable.from([randomBytes(10_000)])),
        DigestMismatchError,
      );
      await assert.rejects(
        store.write({ digest, size: data.length }, Readable.from([data.subarray(0, 9_000)])),
        SizeMismatchError,
      );
      await assert.rejects(
        store.write({ digest, size: data.length }, Readable.from([data, Buffer.from("more")])),
        SizeMismatchError,
      );
      assert.equal(await store.has(digest), false);
      // Whatever was kept for a resume is checked again: the right bytes still commit.
      await store.write({ digest, size: data.length }, Readable.from([data]));
      assert.ok((await readAll(store, digest)).equals(data));
      assert.deepEqual(await readdir(join(root, "ingest")), []);
    });

    test("writeNew hashes a stream of unknown digest and stores it under the digest it has", async () => {
      const { store } = await make();
      const data = randomBytes(123_456);
      const { digest, size } = await store.writeNew(
        Readable.from([data.subarray(0, 100), data.subarray(100)]),
      );
      assert.equal(size, data.length);
      assert.ok(digest.equals(digestOf(data)));
      assert.ok((await readAll(store, digest)).equals(data));
    });
  });
}
