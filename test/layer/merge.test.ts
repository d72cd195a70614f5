import assert from "node:assert/strict";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { mergedView } from "../../src/layer/merge.js";
import { unpackLayer } from "../../src/layer/unpack.js";
import { isRoot, makeTar, snapshot, tempDir } from "./fixtures.js";

const lower = () =>
  makeTar([
    { name: "a/", type: "directory" },
    { name: "a/gone", body: "whited out" },
    { name: "a/kept", body: "kept" },
    { name: "b/", type: "directory", mode: 0o750 },
    { name: "b/old", body: "hidden by the opaque dir" },
    { name: "b/sub/", type: "directory" },
    { name: "b/sub/deep", body: "hidden too" },
    { name: "c/", type: "directory" },
    { name: "c/inside", body: "whole dir whited out" },
    { name: "d/", type: "directory" },
    { name: "d/was-a-dir", body: "replaced by a file" },
    { name: "e", type: "symlink", linkname: "/etc" },
    { name: "h1", body: "hard" },
    { name: "h2", type: "link", linkname: "h1" },
  ]);

const upper = () =>
  makeTar([
    { name: "a/", type: "directory" },
    { name: "a/.wh.gone", body: "" },
    { name: "b/", type: "directory", mode: 0o755 },
    { name: "b/.wh..wh..opq", body: "" },
    { name: "b/new", body: "new" },
    { name: ".wh.c", body: "" },
    { name: "d", body: "now a file" },
    { name: "e/", type: "directory" },
    { name: "e/file", body: "a directory replaced the symlink" },
  ]);

describe("mergedView", () => {
  const spellings = isRoot ? [true, false] : [false];
  for (const asRoot of spellings) {
    for (const hardlink of [false, true]) {
      test(`applies ${asRoot ? "overlayfs" : ".wh. marker"} whiteouts and opaque dirs (${hardlink ? "hard links" : "copies"})`, async () => {
        const base = await tempDir();
        const dirs = [join(base, "l1"), join(base, "l2")];
        const merged = join(base, "merged");
        for (const d of [...dirs, merged]) await mkdir(d);
        await unpackLayer({ source: Readable.from([await lower()]), dest: dirs[0]!, asRoot });
        await unpackLayer({ source: Readable.from([await upper()]), dest: dirs[1]!, asRoot });
        await mergedView(dirs, merged, { hardlink, asRoot });

        assert.deepEqual(await readdir(join(merged, "a")), ["kept"], "the whited-out file is gone");
        assert.deepEqual(
          await readdir(join(merged, "b")),
          ["new"],
          "the opaque dir hides all lower contents",
        );
        assert.deepEqual((await readdir(merged)).sort(), ["a", "b", "d", "e", "h1", "h2"]);
        assert.equal(await readFile(join(merged, "d"), "utf8"), "now a file");
        assert.equal(await readFile(join(merged, "e/file"), "utf8"), "a directory replaced the symlink");
        const snap = snapshot(merged);
        assert.equal(snap.b?.mode, 0o755, "the upper directory's metadata wins");
        assert.equal(snap.h2?.inode, "h1", "hard links within a layer stay hard links");
        for (const node of Object.values(snap))
          assert.notEqual(node.type, "char", "no whiteout devices remain");
        assert.ok(!Object.keys(snap).some((p) => p.includes(".wh.")), "no whiteout markers remain");
      });
    }
  }

  test("a single layer merges to a copy of itself", async () => {
    const base = await tempDir();
    const layer = join(base, "l1");
    const merged = join(base, "merged");
    await mkdir(layer);
    await mkdir(merged);
    await unpackLayer({ source: Readable.from([await lower()]), dest: layer });
    await mergedView([layer], merged);
    assert.deepEqual(snapshot(merged), snapshot(layer));
  });
});
