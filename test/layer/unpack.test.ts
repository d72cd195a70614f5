import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { CorruptLayerError, DiffIdMismatchError, UnsafeLayerError } from "../../src/layer/errors.js";
import { unpackLayer } from "../../src/layer/unpack.js";
import { COMPRESSIONS, compress, type Entry, isRoot, makeTar, sandbox, sha256 } from "./fixtures.js";

/** A source that yields the blob in small, uneven pieces, as a network download does. */
function dribble(blob: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0, k = 0; i < blob.length; k++) {
    const n = 1 + ((k * 7919) % 9000);
    pieces.push(blob.subarray(i, i + n));
    i += n;
  }
  return Readable.from(pieces);
}

describe("unpackLayer", () => {
  test("round trip: files, dirs, modes with setuid, owners, mtimes, symlinks, hard links", async () => {
    const mtime = new Date("2021-01-02T03:04:05Z");
    const tar = await makeTar([
      { name: "bin/", type: "directory", mode: 0o755, mtime },
      { name: "bin/tool", body: "#!/bin/sh\n", mode: 0o4755, uid: 1234, gid: 1234, mtime },
      { name: "bin/alias", type: "symlink", linkname: "tool", mtime },
      { name: "bin/hard", type: "link", linkname: "bin/tool" },
      { name: "etc/conf", body: "x=1\n", mode: 0o600 },
      { name: "./abs-link", type: "symlink", linkname: "/etc/conf" },
      { name: "ro/", type: "directory", mode: 0o555, mtime },
      { name: "ro/inside", body: "written before the directory became read-only" },
      { name: "shared/", type: "directory", mode: 0o3775, uid: 1234, gid: 1234 },
    ]);
    const { dest } = await sandbox();
    const result = await unpackLayer({
      source: Readable.from([compress(tar, "gzip")]),
      dest,
      expectedDiffId: sha256(tar),
    });
    assert.equal(result.diffId, sha256(tar));
    assert.equal(result.compression, "gzip");
    assert.equal(result.size, tar.length);
    assert.equal(result.entries, 9);
    const tool = await stat(join(dest, "bin/tool"));
    assert.equal(tool.mode & 0o7777, 0o4755, "setuid survives the chown");
    assert.equal(tool.mtime.getTime(), mtime.getTime());
    if (isRoot) assert.deepEqual([tool.uid, tool.gid], [1234, 1234]);
    assert.equal(await readlink(join(dest, "bin/alias")), "tool");
    assert.equal(await readlink(join(dest, "abs-link")), "/etc/conf");
    assert.equal((await stat(join(dest, "bin/hard"))).ino, tool.ino);
    assert.equal((await stat(join(dest, "etc/conf"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dest, "bin"))).mtime.getTime(), mtime.getTime());
    const ro = await stat(join(dest, "ro"));
    assert.equal(ro.mode & 0o7777, 0o555);
    assert.equal(ro.mtime.getTime(), mtime.getTime(), "directory times are set after their contents");
    assert.equal((await stat(join(dest, "shared"))).mode & 0o7777, 0o3775);
  });

  for (const kind of COMPRESSIONS) {
    test(`${kind} layers, arriving in uneven pieces`, async () => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, "layer");
      const tar = await makeTar([
        { name: "a.txt", body: "hello" },
        { name: "big.bin", body: big },
        { name: "empty", body: "" },
      ]);
      const { dest } = await sandbox();
      const r = await unpackLayer({
        source: dribble(compress(tar, kind)),
        dest,
        expectedDiffId: sha256(tar),
      });
      assert.equal(r.compression, kind);
      assert.equal(r.diffId, sha256(tar));
      assert.equal(r.size, tar.length);
      assert.equal(await readFile(join(dest, "a.txt"), "utf8"), "hello");
      assert.ok((await readFile(join(dest, "big.bin"))).equals(big));
      assert.equal((await stat(join(dest, "empty"))).size, 0);
    });
  }

  test("a diff_id that does not match is refused", async () => {
    const tar = await makeTar([{ name: "a.txt", body: "hello" }]);
    const { dest } = await sandbox();
    const wrong = sha256(Buffer.from("other"));
    await assert.rejects(
      unpackLayer({ source: Readable.from([compress(tar, "gzip")]), dest, expectedDiffId: wrong }),
      (err: unknown) =>
        err instanceof DiffIdMismatchError && err.expected === wrong && err.actual === sha256(tar),
    );
  });

  test("the diff_id covers the whole uncompressed stream, padding after the end marker included", async () => {
    const tar = Buffer.concat([await makeTar([{ name: "a", body: "x" }]), Buffer.alloc(10240)]);
    const { dest } = await sandbox();
    const r = await unpackLayer({ source: Readable.from([tar]), dest });
    assert.equal(r.diffId, sha256(tar));
    assert.equal(r.size, tar.length);
  });

  test("whiteouts and opaque directories", async () => {
    const tar = await makeTar([
      { name: "dir/", type: "directory", mode: 0o755 },
      { name: "dir/.wh.gone.txt", body: "" },
      { name: "opaque/", type: "directory", mode: 0o755 },
      { name: "opaque/.wh..wh..opq", body: "" },
      { name: ".wh..wh.plnk/", type: "directory" },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    assert.ok(!existsSync(join(dest, ".wh..wh.plnk")), "aufs bookkeeping is dropped");
    if (isRoot) {
      const wh = await lstat(join(dest, "dir/gone.txt"));
      assert.ok(wh.isCharacterDevice(), "an overlayfs whiteout is a character device");
      assert.equal(wh.rdev, 0);
      assert.deepEqual(await readdir(join(dest, "dir")), ["gone.txt"]);
      const xattr = execFileSync("getfattr", [
        "--only-values",
        "-n",
        "trusted.overlay.opaque",
        join(dest, "opaque"),
      ]);
      assert.equal(xattr.toString(), "y");
      assert.deepEqual(await readdir(join(dest, "opaque")), []);
    }
    const { dest: rootless } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest: rootless, asRoot: false });
    assert.deepEqual(
      await readdir(join(rootless, "dir")),
      [".wh.gone.txt"],
      "rootless keeps the marker files",
    );
    assert.deepEqual(await readdir(join(rootless, "opaque")), [".wh..wh..opq"]);
  });

  // Each of these would write outside the layer directory if followed. OUTSIDE stands for the
  // sentinel directory next to the layer, which must stay exactly as it was.
  const hostile: [string, Entry[]][] = [
    ["../evil", [{ name: "../evil", body: "x" }]],
    ["a/../../evil", [{ name: "a/../../evil", body: "x" }]],
    [
      "link -> OUTSIDE, then link/file",
      [
        { name: "link", type: "symlink", linkname: "OUTSIDE" },
        { name: "link/file", body: "x" },
      ],
    ],
    [
      "link -> .., then link/escape",
      [
        { name: "link", type: "symlink", linkname: ".." },
        { name: "link/escape", body: "x" },
      ],
    ],
    [
      "link -> .., then link/outside/evil",
      [
        { name: "up", type: "symlink", linkname: ".." },
        { name: "up/outside/evil", body: "x" },
      ],
    ],
    [
      "a directory entry through a symlink",
      [
        { name: "link", type: "symlink", linkname: "OUTSIDE" },
        { name: "link/sub/", type: "directory" },
      ],
    ],
    [
      "a symlink through a symlink",
      [
        { name: "link", type: "symlink", linkname: "OUTSIDE" },
        { name: "link/s", type: "symlink", linkname: "/etc/passwd" },
      ],
    ],
    ["a hard link to ../../etc/passwd", [{ name: "h", type: "link", linkname: "../../etc/passwd" }]],
    ["a hard link to ../outside/target", [{ name: "h", type: "link", linkname: "../outside/target" }]],
    ["a hard link to /etc/passwd", [{ name: "h", type: "link", linkname: "/etc/passwd" }]],
    [
      "a hard link through a symlinked dir",
      [
        { name: "d", type: "symlink", linkname: "OUTSIDE" },
        { name: "h", type: "link", linkname: "d/target" },
      ],
    ],
    ["a hard link to a file not in the layer", [{ name: "h", type: "link", linkname: "missing" }]],
    [
      "a hard link to a directory",
      [
        { name: "d/", type: "directory" },
        { name: "h", type: "link", linkname: "d" },
      ],
    ],
    [
      "a whiteout through a symlinked dir",
      [
        { name: "d", type: "symlink", linkname: "OUTSIDE" },
        { name: "d/.wh.target", body: "" },
      ],
    ],
    [
      "an opaque marker through a symlinked dir",
      [
        { name: "d", type: "symlink", linkname: "OUTSIDE" },
        { name: "d/.wh..wh..opq", body: "" },
      ],
    ],
    ["a whiteout of ..", [{ name: "d/.wh...", body: "" }]],
  ];
  for (const [what, entries] of hostile) {
    for (const kind of COMPRESSIONS) {
      test(`hostile layer refused (${kind}): ${what}`, async () => {
        const { base, dest, outside } = await sandbox();
        await writeFile(join(outside, "target"), "keep");
        const tar = await makeTar(
          entries.map((e) => ({ ...e, linkname: e.linkname?.replace("OUTSIDE", outside) })),
        );
        await assert.rejects(
          unpackLayer({ source: Readable.from([compress(tar, kind)]), dest }),
          (err: unknown) => {
            assert.ok(err instanceof UnsafeLayerError, String(err));
            assert.ok(
              entries.some((e) => e.name === err.entry),
              `the error names the entry: ${err.entry}`,
            );
            return true;
          },
        );
        assert.deepEqual(await readdir(outside), ["target"], "nothing written in the sentinel directory");
        assert.equal(await readFile(join(outside, "target"), "utf8"), "keep");
        assert.deepEqual(
          (await readdir(base)).sort(),
          ["layer", "outside"],
          "nothing written next to the layer",
        );
        assert.equal(await readFile("/etc/passwd", "utf8").then((s) => s.length > 0), true);
      });
    }
  }

  test("absolute entry names land inside the layer, as Docker, podman and umoci extract them", async () => {
    const { base, dest } = await sandbox();
    const tar = await makeTar([
      { name: "/etc/", type: "directory" },
      { name: "/etc/x", body: "inside" },
      { name: "//etc/y", type: "link", linkname: "/etc/x" },
      { name: "/abs/", type: "directory" },
    ]);
    await unpackLayer({ source: Readable.from([tar]), dest });
    assert.equal(await readFile(join(dest, "etc/x"), "utf8"), "inside");
    assert.equal((await stat(join(dest, "etc/y"))).ino, (await stat(join(dest, "etc/x"))).ino, "a hard link");
    assert.ok((await stat(join(dest, "abs"))).isDirectory());
    assert.deepEqual((await readdir(base)).sort(), ["layer", "outside"], "nothing written next to the layer");
  });

  test("symlinks may point anywhere: they are created, never followed", async () => {
    const { dest, outside } = await sandbox();
    const tar = await makeTar([
      { name: "up", type: "symlink", linkname: "../../.." },
      { name: "abs", type: "symlink", linkname: outside },
      { name: "hl", type: "link", linkname: "abs" },
    ]);
    await unpackLayer({ source: Readable.from([tar]), dest });
    assert.equal(await readlink(join(dest, "up")), "../../..");
    assert.equal(await readlink(join(dest, "hl")), outside, "a hard link to a symlink is the symlink");
    assert.deepEqual(await readdir(outside), []);
  });

  test("device nodes and fifos are skipped when not root, created when root", async () => {
    const tar = await makeTar([
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660, uid: 1234, gid: 6 },
      { name: "run/pipe", type: "fifo", mode: 0o620 },
    ]);
    const { dest, outside } = await sandbox();
    const r = await unpackLayer({ source: Readable.from([tar]), dest, asRoot: false });
    assert.deepEqual(r.skipped, ["dev/null", "dev/loop9", "run/pipe"]);
    assert.deepEqual(await readdir(join(dest, "dev")), []);
    assert.deepEqual(await readdir(outside), []);
    if (isRoot) {
      const { dest: d2 } = await sandbox();
      const r2 = await unpackLayer({ source: Readable.from([tar]), dest: d2, asRoot: true });
      assert.deepEqual(r2.skipped, []);
      const nul = await lstat(join(d2, "dev/null"));
      assert.ok(nul.isCharacterDevice());
      assert.equal(nul.rdev, (1 << 8) | 3);
      assert.equal(nul.mode & 0o7777, 0o666);
      const loop = await lstat(join(d2, "dev/loop9"));
      assert.ok(loop.isBlockDevice());
      assert.deepEqual([loop.uid, loop.gid, loop.mode & 0o7777], [1234, 6, 0o660]);
      assert.ok((await lstat(join(d2, "run/pipe"))).isFIFO());
    }
  });

  test("a later entry replaces an earlier one of the same path", async () => {
    const tar = await makeTar([
      { name: "x", body: "first" },
      { name: "x", body: "second" },
      { name: "d/", type: "directory" },
      { name: "d/f", body: "in dir" },
      { name: "d", type: "symlink", linkname: "x" },
      { name: "s", type: "symlink", linkname: "/etc/passwd" },
      { name: "s", body: "a file, not written through the symlink" },
      { name: "f", body: "file" },
      { name: "f/", type: "directory" },
      { name: "f/inner", body: "inner" },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    assert.equal(await readFile(join(dest, "x"), "utf8"), "second");
    assert.equal(await readlink(join(dest, "d")), "x");
    assert.ok((await lstat(join(dest, "s"))).isFile());
    assert.equal(await readFile(join(dest, "f/inner"), "utf8"), "inner");
  });

  test("extended attributes from PAX headers are restored as root", async (t) => {
    if (!isRoot) {
      t.skip("xattrs are restored only when running as root");
      return;
    }
    const tar = await makeTar([
      {
        name: "cap-bin",
        body: "binary",
        mode: 0o755,
        uid: 1234,
        pax: { "SCHILY.xattr.user.berth-test": "hello xattr" },
      },
      { name: "d/", type: "directory", pax: { "SCHILY.xattr.trusted.berth": "on a dir" } },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    const value = execFileSync("getfattr", ["--only-values", "-n", "user.berth-test", join(dest, "cap-bin")]);
    assert.equal(value.toString(), "hello xattr", "set after the chown, which would drop it");
    const dir = execFileSync("getfattr", ["--only-values", "-n", "trusted.berth", join(dest, "d")]);
    assert.equal(dir.toString(), "on a dir");
  });

  test("corrupt and truncated tars are refused", async () => {
    const tar = await makeTar([{ name: "a.txt", body: "hello".repeat(300) }]);
    const bad = Buffer.from(tar);
    bad[10] = 0x41; // inside the name: the checksum no longer matches
    for (const blob of [
      bad,
      tar.subarray(0, 700),
      Buffer.from("not a tar at all, just some text".repeat(20)),
    ]) {
      const { dest } = await sandbox();
      await assert.rejects(unpackLayer({ source: Readable.from([blob]), dest }), CorruptLayerError);
    }
    const { dest } = await sandbox();
    await assert.rejects(
      unpackLayer({ source: Readable.from([compress(tar, "gzip").subarray(0, 40)]), dest }),
    );
  });

  test("a failing source fails the unpack, and later unpacks still work", async () => {
    const tar = await makeTar([{ name: "a", body: "x".repeat(100000) }]);
    const { dest } = await sandbox();
    const failing = Readable.from(
      (async function* () {
        yield tar.subarray(0, 2000);
        throw new Error("connection reset");
      })(),
    );
    await assert.rejects(unpackLayer({ source: failing, dest }), /connection reset/);
    const { dest: d2 } = await sandbox();
    const r = await unpackLayer({ source: Readable.from([tar]), dest: d2 });
    assert.equal(r.diffId, sha256(tar));
  });

  test("concurrent unpacks share workers and stay separate", async () => {
    const layers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        makeTar([
          { name: `only-${i}`, body: String(i).repeat(50000 + i) },
          { name: "common", body: `layer ${i}` },
        ]),
      ),
    );
    const dests = await Promise.all(layers.map(() => sandbox()));
    const results = await Promise.all(
      layers.map((tar, i) => unpackLayer({ source: dribble(compress(tar, "gzip")), dest: dests[i]!.dest })),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.diffId, sha256(layers[i]!));
      assert.deepEqual((await readdir(dests[i]!.dest)).sort(), ["common", `only-${i}`]);
      assert.equal(await readFile(join(dests[i]!.dest, "common"), "utf8"), `layer ${i}`);
    }
  });
});
