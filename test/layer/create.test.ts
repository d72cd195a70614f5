import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import { createLayerFromDirectory } from "../../src/layer/create.js";
import { unpackLayer } from "../../src/layer/unpack.js";
import { COMPRESSIONS, type Entry, isRoot, makeTar, sandbox, sha256, snapshot, tempDir } from "./fixtures.js";

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Entry names and types as tar-stream reads them: an independent reader of what create wrote. */
async function listTar(tar: Buffer): Promise<{ name: string; type: string; pax?: unknown }[]> {
  const out: { name: string; type: string; pax?: unknown }[] = [];
  const ex = extract();
  ex.on("entry", (h, body, next) => {
    out.push({ name: h.name, type: h.type, pax: h.pax ?? undefined });
    body.resume();
    body.on("end", () => next());
  });
  await new Promise<void>((resolve, reject) => {
    ex.on("finish", resolve);
    ex.on("error", reject);
    ex.end(tar);
  });
  return out;
}

function decompress(blob: Buffer, kind: string): Buffer {
  if (kind === "gzip") return gunzipSync(blob);
  if (kind === "zstd") return execFileSync("zstd", ["-q", "-dc"], { input: blob, maxBuffer: 1 << 30 });
  return blob;
}

const mtime = new Date("2020-02-02T02:02:02Z");
const longDir = `${"d".repeat(120)}/${"e".repeat(120)}`;
const tree: Entry[] = [
  { name: "bin/", type: "directory", mode: 0o755, mtime },
  { name: "bin/su", body: "setuid", mode: 0o4755, uid: 1234, gid: 1234, mtime },
  { name: "bin/sg", body: "setgid", mode: 0o2711, uid: 0, gid: 1234, mtime },
  { name: "bin/link", type: "symlink", linkname: "su", uid: 1234, gid: 1234, mtime },
  { name: "bin/hard", type: "link", linkname: "bin/su" },
  { name: "tmp/", type: "directory", mode: 0o1777, mtime },
  { name: `${longDir}/`, type: "directory", mode: 0o700, mtime },
  { name: `${longDir}/${"f".repeat(200)}`, body: "long name", mode: 0o640, uid: 1234, gid: 1234, mtime },
  { name: "ünïcødé/名前.txt", body: "utf-8 names", mtime },
  { name: "caps", body: "with xattrs", mode: 0o755, mtime, pax: { "SCHILY.xattr.user.note": "kept" } },
  { name: "big", body: Buffer.alloc(2 * 1024 * 1024 + 5, 7), mtime },
];

describe("createLayerFromDirectory", () => {
  for (const kind of COMPRESSIONS) {
    test(`round trip through ${kind}: modes, setuid, owners, times, links, xattrs, long names`, async () => {
      const { dest: first } = await sandbox();
      await unpackLayer({ source: Readable.from([await makeTar(tree)]), dest: first });
      const created = createLayerFromDirectory(first, { compression: kind });
      const blob = await collect(created.stream);
      const result = await created.result;
      const tar = decompress(blob, kind);
      assert.equal(result.diffId, sha256(tar));
      assert.equal(result.digest, sha256(blob));
      assert.equal(result.size, blob.length);
      assert.equal(result.uncompressedSize, tar.length);

      const { dest: second } = await sandbox();
      const unpacked = await unpackLayer({
        source: Readable.from([blob]),
        dest: second,
        expectedDiffId: result.diffId,
      });
      assert.equal(unpacked.diffId, result.diffId);
      const a = snapshot(first, { xattrs: isRoot });
      assert.deepEqual(snapshot(second, { xattrs: isRoot }), a);
      assert.equal(a["bin/su"]?.mode, 0o4755);
      assert.equal(a["bin/su"]?.inode, "bin/hard", "hard links share an inode");
      if (isRoot) {
        assert.deepEqual([a["bin/su"]?.uid, a["bin/su"]?.gid], [1234, 1234]);
        assert.ok(a.caps?.xattrs?.["user.note"], "xattrs survive the round trip");
      }
    });
  }

  test("the tar is deterministic, sorted, and readable by another tar implementation", async () => {
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([await makeTar(tree)]), dest });
    const one = createLayerFromDirectory(dest, { compression: "gzip" });
    const blob = await collect(one.stream);
    const two = createLayerFromDirectory(dest, { compression: "gzip" });
    await collect(two.stream);
    assert.equal((await one.result).digest, (await two.result).digest);
    const entries = await listTar(gunzipSync(blob));
    const names = entries.map((e) => e.name);
    assert.deepEqual(names.slice(0, 5), ["big", "bin/", "bin/hard", "bin/link", "bin/sg"]);
    assert.ok(names.includes(`${longDir}/${"f".repeat(200)}`), "long names through PAX");
    assert.ok(names.includes("ünïcødé/名前.txt"));
    assert.equal(
      entries.find((e) => e.name === "bin/su")?.type,
      "link",
      "the second name of an inode is a hard link",
    );
  });

  test("overlayfs whiteouts go back to .wh. entries", async (t) => {
    if (!isRoot) {
      t.skip("overlayfs whiteouts exist only when unpacked as root");
      return;
    }
    const { dest } = await sandbox();
    const layer = await makeTar([
      { name: "dir/", type: "directory" },
      { name: "dir/.wh.gone", body: "" },
      { name: "opaque/", type: "directory" },
      { name: "opaque/.wh..wh..opq", body: "" },
      { name: "opaque/new", body: "new" },
    ]);
    await unpackLayer({ source: Readable.from([layer]), dest });
    const created = createLayerFromDirectory(dest, { compression: "none" });
    const entries = await listTar(await collect(created.stream));
    assert.deepEqual(
      entries.map((e) => [e.name, e.type]),
      [
        ["dir/", "directory"],
        ["dir/.wh.gone", "file"],
        ["opaque/", "directory"],
        ["opaque/.wh..wh..opq", "file"],
        ["opaque/new", "file"],
      ],
    );
    assert.equal(entries[2]?.pax, undefined, "trusted.overlay.* is not part of the image");
  });

  test("rootless .wh. markers pass through unchanged", async () => {
    const { dest } = await sandbox();
    const layer = await makeTar([
      { name: "dir/", type: "directory" },
      { name: "dir/.wh.gone", body: "" },
    ]);
    await unpackLayer({ source: Readable.from([layer]), dest, asRoot: false });
    const entries = await listTar(
      await collect(createLayerFromDirectory(dest, { compression: "none" }).stream),
    );
    assert.deepEqual(
      entries.map((e) => e.name),
      ["dir/", "dir/.wh.gone"],
    );
  });

  test("a missing directory fails the stream and the result", async () => {
    const missing = `${await tempDir()}/nope`;
    const created = createLayerFromDirectory(missing, { compression: "gzip" });
    await assert.rejects(collect(created.stream));
    await assert.rejects(created.result);
  });
});
