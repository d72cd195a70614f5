import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { createLayerFromDirectory } from "../../src/layer/create.js";
import { directorySize } from "../../src/layer/size.js";
import { unpackLayer } from "../../src/layer/unpack.js";
import { isRoot, makeTar, sandbox, tempDir } from "./fixtures.js";

/**
 * A layer's size is Docker's (moby pkg/directory Size over the overlay2 diff directory): file
 * contents and symlink targets, each inode once; directories, devices and whiteouts are 0. Not
 * the tar's bytes (issue 15: a WORKDIR step showed 1.54kB, a 9-byte COPY 3.07kB).
 */
describe("layer sizes count file contents, as Docker's", () => {
  test("a layer holding only a directory is 0 bytes, one 9-byte file is 9", async () => {
    const dirOnly = await makeTar([{ name: "app/", type: "directory", mode: 0o755 }]);
    const a = await sandbox();
    const r1 = await unpackLayer({ source: Readable.from([dirOnly]), dest: a.dest });
    assert.ok(r1.size >= 1024, "the tar itself is a kilobyte and more");
    assert.equal(r1.contentSize, 0);
    const nine = await makeTar([
      { name: "app/", type: "directory", mode: 0o755 },
      { name: "app/nine.txt", body: "123456789" },
    ]);
    const b = await sandbox();
    const r2 = await unpackLayer({ source: Readable.from([nine]), dest: b.dest });
    assert.equal(r2.contentSize, 9);
  });

  test("symlinks count their target, hard links nothing, replaced entries only as they end up", async () => {
    const entries = [
      { name: "a/", type: "directory" as const },
      { name: "a/nine.txt", body: "123456789" },
      { name: "a/link", type: "symlink" as const, linkname: "nine.txt" },
      { name: "a/hard", type: "link" as const, linkname: "a/nine.txt" },
      { name: "a/dup", body: "x".repeat(100) },
      { name: "a/dup", body: "12345" },
      { name: "a/gone", body: "y".repeat(50) },
      { name: "a/.wh.gone" },
      { name: "a/tree/deep/f", body: "z".repeat(70) },
      { name: "a/tree/deep/keep", type: "link" as const, linkname: "a/nine.txt" },
      // A file replaces the directory: the 70 bytes under it go, nine.txt's inode stays.
      { name: "a/tree", body: "abc" },
      ...(isRoot ? [{ name: "a/null", type: "character-device" as const, devmajor: 1, devminor: 3 }] : []),
    ];
    const { dest } = await sandbox();
    const result = await unpackLayer({ source: Readable.from([await makeTar(entries)]), dest });
    // Without root a whiteout is a marker file beside what it hides (the rootless spelling).
    const expected = 9 + "nine.txt".length + 5 + 3 + (isRoot ? 0 : 50);
    assert.equal(result.contentSize, expected);
    assert.equal(directorySize(dest), expected, "the walk of the directory agrees");
    const created = createLayerFromDirectory(dest, { compression: "none" });
    created.stream.resume();
    assert.equal((await created.result).contentSize, expected, "making a layer of it counts the same");
  });

  test("directorySize walks a tree as moby's directory.Size does", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "d/e"), { recursive: true });
    await writeFile(join(dir, "d/e/f"), "x".repeat(1000));
    await writeFile(join(dir, "empty"), "");
    await symlink("/some/where/else", join(dir, "d/ln"));
    assert.equal(directorySize(dir), 1000 + "/some/where/else".length);
  });
});
