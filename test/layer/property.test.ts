import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import fc from "fast-check";
import { createLayerFromDirectory } from "../../src/layer/create.js";
import { unpackLayer } from "../../src/layer/unpack.js";
import { type Entry, isRoot, makeTar, sandbox, snapshot } from "./fixtures.js";

type Kind = "file" | "dir" | "symlink" | "hardlink";
interface Raw {
  segments: string[];
  kind: Kind;
  mode: number;
  uid: number;
  mtime: number;
  content: string;
  link: string;
  pick: number;
}

const segment = fc.constantFrom("a", "b", "c", "ü", "with space", "x".repeat(120));
const raw: fc.Arbitrary<Raw> = fc.record({
  segments: fc.array(segment, { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom<Kind>("file", "file", "dir", "symlink", "hardlink"),
  mode: fc.constantFrom(0o644, 0o755, 0o600, 0o4755, 0o2750, 0o1777, 0o555),
  uid: fc.constantFrom(0, 1234, 65534),
  mtime: fc.integer({ min: 0, max: 2_000_000_000 }),
  content: fc.string({ maxLength: 300 }),
  link: fc.constantFrom("a", "../b", "/etc/passwd", "c/../../x", "."),
  pick: fc.nat(),
});

/** A well-formed layer from random entries: parents before children, unique paths, links to earlier files. */
function layerOf(raws: Raw[]): Entry[] {
  const kinds = new Map<string, Kind>();
  const files: string[] = [];
  const entries: Entry[] = [];
  for (const r of raws) {
    const path = r.segments.join("/");
    if (kinds.has(path)) continue;
    const parents = r.segments.slice(0, -1).map((_, i) => r.segments.slice(0, i + 1).join("/"));
    if (parents.some((p) => kinds.has(p) && kinds.get(p) !== "dir")) continue;
    for (const p of parents) {
      if (kinds.has(p)) continue;
      kinds.set(p, "dir");
      entries.push({ name: `${p}/`, type: "directory", mode: 0o755, mtime: new Date(r.mtime * 1000) });
    }
    const common = { uid: r.uid, gid: r.uid, mtime: new Date(r.mtime * 1000) };
    let kind = r.kind;
    if (kind === "hardlink" && files.length === 0) kind = "file";
    kinds.set(path, kind);
    if (kind === "dir") entries.push({ name: `${path}/`, type: "directory", mode: r.mode, ...common });
    else if (kind === "symlink") entries.push({ name: path, type: "symlink", linkname: r.link, ...common });
    else if (kind === "hardlink")
      entries.push({ name: path, type: "link", linkname: files[r.pick % files.length]!, ...common });
    else {
      files.push(path);
      entries.push({ name: path, body: r.content, mode: r.mode & 0o7777, ...common });
    }
  }
  return entries;
}

/** fc.assert, with the failing assertion's message in the report (fast-check keeps it as `cause`). */
async function check(property: fc.IAsyncProperty<[Raw[]]>, params: fc.Parameters<[Raw[]]>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    if (err instanceof Error && err.cause) err.message += `\nCaused by: ${String(err.cause)}`;
    throw err;
  }
}

describe("layers round-trip (property)", () => {
  test("unpack, create, unpack again: the same tree, and create is deterministic", async () => {
    await check(
      fc.asyncProperty(fc.array(raw, { minLength: 1, maxLength: 25 }), async (raws) => {
        const entries = layerOf(raws);
        const { dest: first } = await sandbox();
        await unpackLayer({ source: Readable.from([await makeTar(entries)]), dest: first });
        const a = snapshot(first);
        for (const e of entries) {
          const name = e.name.replace(/\/$/, "");
          const node = a[name];
          assert.ok(node, `${name} exists`);
          if (e.type === "symlink") assert.equal(node.link, e.linkname);
          if (e.type === undefined) {
            assert.equal(node.content, createHash("sha256").update(String(e.body)).digest("hex"));
            assert.equal(node.mode, e.mode);
          }
          if (e.type === "link") assert.equal(node.inode, a[e.linkname!]?.inode);
          // A hard link has its target's owner: the inode is shared.
          if (isRoot && e.uid !== undefined && e.type !== "link") assert.equal(node.uid, e.uid);
        }
        const blobs: Buffer[] = [];
        for (let i = 0; i < 2; i++) {
          const chunks: Buffer[] = [];
          for await (const c of createLayerFromDirectory(first, { compression: "gzip" }).stream)
            chunks.push(c as Buffer);
          blobs.push(Buffer.concat(chunks));
        }
        assert.ok(blobs[0]!.equals(blobs[1]!), "equal trees give equal blobs");
        const { dest: second } = await sandbox();
        await unpackLayer({ source: Readable.from([blobs[0]!]), dest: second });
        assert.deepEqual(snapshot(second), a);
      }),
      { numRuns: 40 },
    );
  });
});
