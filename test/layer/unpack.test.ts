import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { type Header, pack } from "tar-stream";
import { DiffIdMismatchError, UnsafeLayerError } from "../../src/layer/errors.js";
import { unpackLayer } from "../../src/layer/unpack.js";

type Entry = Partial<Header> & { name: string; body?: string };

/** A tar made with tar-stream's packer, independent of the code under test. */
async function makeTar(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ mode: 0o644, ...header }, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A sandbox: dest (the layer dir) and a sentinel sibling that must stay empty. */
async function sandbox(): Promise<{ dest: string; outside: string; base: string }> {
  const base = await mkdtemp(join(tmpdir(), "berth-layer-"));
  dirs.push(base);
  const dest = join(base, "layer");
  const outside = join(base, "outside");
  await mkdir(dest);
  await mkdir(outside);
  return { dest, outside, base };
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

const asRoot = process.getuid?.() === 0;

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
    ]);
    const { dest } = await sandbox();
    const result = await unpackLayer({
      source: Readable.from([gzipSync(tar)]),
      dest,
      expectedDiffId: sha256(tar),
    });
    assert.equal(result.diffId, sha256(tar));
    assert.equal(result.compression, "gzip");
    assert.equal(result.size, tar.length);
    const tool = await stat(join(dest, "bin/tool"));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.equal(tool.mtime.getTime(), mtime.getTime());
    if (asRoot) assert.equal(tool.uid, 1234);
    assert.equal(await readlink(join(dest, "bin/alias")), "tool");
    assert.equal(await readlink(join(dest, "abs-link")), "/etc/conf");
    assert.equal((await stat(join(dest, "bin/hard"))).ino, tool.ino);
    assert.equal((await stat(join(dest, "etc/conf"))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dest, "bin"))).mtime.getTime(), mtime.getTime());
  });

  test("plain and zstd layers", async () => {
    const tar = await makeTar([{ name: "a.txt", body: "hello" }]);
    for (const [name, blob] of [
      ["none", tar],
      ["zstd", execFileSync("zstd", ["-c"], { input: tar })],
    ] as const) {
      const { dest } = await sandbox();
      const r = await unpackLayer({ source: Readable.from([blob]), dest });
      assert.equal(r.compression, name);
      assert.equal(r.diffId, sha256(tar));
      assert.equal(await readFile(join(dest, "a.txt"), "utf8"), "hello");
    }
  });

  test("a diff_id that does not match is refused", async () => {
    const tar = await makeTar([{ name: "a.txt", body: "hello" }]);
    const { dest } = await sandbox();
    await assert.rejects(
      unpackLayer({ source: Readable.from([tar]), dest, expectedDiffId: sha256(Buffer.from("other")) }),
      DiffIdMismatchError,
    );
  });

  test("whiteouts and opaque directories", async () => {
    const tar = await makeTar([
      { name: "dir/", type: "directory", mode: 0o755 },
      { name: "dir/.wh.gone.txt", body: "" },
      { name: "opaque/", type: "directory", mode: 0o755 },
      { name: "opaque/.wh..wh..opq", body: "" },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    if (asRoot) {
      const wh = await lstat(join(dest, "dir/gone.txt"));
      assert.ok(wh.isCharacterDevice(), "an overlayfs whiteout is a character device");
      assert.equal(wh.rdev, 0);
      const xattr = execFileSync("getfattr", [
        "--only-values",
        "-n",
        "trusted.overlay.opaque",
        join(dest, "opaque"),
      ]).toString();
      assert.equal(xattr, "y");
      assert.deepEqual(await readdir(join(dest, "opaque")), []);
    } else {
      assert.ok(existsSync(join(dest, "dir/.wh.gone.txt")));
    }
  });

  const hostile: [string, Entry[]][] = [
    ["../ escape", [{ name: "../evil", body: "x" }]],
    ["nested ../ escape", [{ name: "a/../../evil", body: "x" }]],
    ["absolute path", [{ name: "/evil", body: "x" }]],
    [
      "write through an absolute symlink",
      [
        { name: "link", type: "symlink", linkname: "OUTSIDE" },
        { name: "link/evil", body: "x" },
      ],
    ],
    [
      "write through a relative symlink to ..",
      [
        { name: "up", type: "symlink", linkname: ".." },
        { name: "up/outside/evil", body: "x" },
      ],
    ],
    ["hard link out with ..", [{ name: "h", type: "link", linkname: "../outside/target" }]],
    ["hard link to an absolute path", [{ name: "h", type: "link", linkname: "/etc/passwd" }]],
    [
      "hard link through a symlinked dir",
      [
        { name: "d", type: "symlink", linkname: "OUTSIDE" },
        { name: "h", type: "link", linkname: "d/target" },
      ],
    ],
    [
      "whiteout through a symlinked dir",
      [
        { name: "d", type: "symlink", linkname: "OUTSIDE" },
        { name: "d/.wh.target", body: "" },
      ],
    ],
  ];
  for (const [what, entries] of hostile) {
    test(`hostile layer refused: ${what}`, async () => {
      const { dest, outside } = await sandbox();
      await (await import("node:fs/promises")).writeFile(join(outside, "target"), "keep");
      const resolved = entries.map((e) => ({ ...e, linkname: e.linkname?.replace("OUTSIDE", outside) }));
      const tar = await makeTar(resolved);
      await assert.rejects(unpackLayer({ source: Readable.from([tar]), dest }), UnsafeLayerError);
      assert.deepEqual((await readdir(outside)).sort(), ["target"], "nothing written outside the layer");
      assert.equal(await readFile(join(outside, "target"), "utf8"), "keep");
      assert.ok(!existsSync(join(dest, "..", "evil")));
    });
  }

  test("device nodes are skipped when not running as root", async () => {
    const tar = await makeTar([
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const { dest } = await sandbox();
    const r = await unpackLayer({ source: Readable.from([tar]), dest, asRoot: false });
    assert.deepEqual(r.skipped, ["dev/null"]);
    assert.ok(!existsSync(join(dest, "dev/null")));
    if (asRoot) {
      const { dest: d2 } = await sandbox();
      await unpackLayer({ source: Readable.from([tar]), dest: d2, asRoot: true });
      const st = await lstat(join(d2, "dev/null"));
      assert.ok(st.isCharacterDevice());
    }
  });

  test("a later entry replaces an earlier one of the same path", async () => {
    const tar = await makeTar([
      { name: "x", body: "first" },
      { name: "x", body: "second" },
      { name: "d/", type: "directory" },
      { name: "d/f", body: "in dir" },
      { name: "d", type: "symlink", linkname: "x" },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    assert.equal(await readFile(join(dest, "x"), "utf8"), "second");
    assert.equal(await readlink(join(dest, "d")), "x");
  });

  test("extended attributes from PAX headers are restored as root", async (t) => {
    if (!asRoot) {
      t.skip("xattrs are restored only when running as root");
      return;
    }
    const tar = await makeTar([
      {
        name: "cap-bin",
        body: "binary",
        mode: 0o755,
        pax: { "SCHILY.xattr.user.berth-test": "hello xattr" },
      },
    ]);
    const { dest } = await sandbox();
    await unpackLayer({ source: Readable.from([tar]), dest });
    const value = execFileSync("getfattr", [
      "--only-values",
      "-n",
      "user.berth-test",
      join(dest, "cap-bin"),
    ]).toString();
    assert.equal(value, "hello xattr");
  });
});
