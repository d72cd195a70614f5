import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseMountFlag, parseVolumeFlag } from "../../src/runtime/mounts.js";

/** docker CLI 28 makes a host path starting with "." absolute before it sends it (its resolveVolumePath). */
describe("-v and --mount paths relative to the working directory", () => {
  const cwd = "/home/u/proj";
  const cases: [string, string, string][] = [
    ["./dir:/x", "/home/u/proj/dir", "/home/u/proj/dir:/x"],
    [".:/x:ro", "/home/u/proj", "/home/u/proj:/x:ro"],
    ["..:/x", "/home/u", "/home/u:/x"],
    ["./a/../b:/x", "/home/u/proj/b", "/home/u/proj/b:/x"],
    [".hidden:/x", "/home/u/proj/.hidden", "/home/u/proj/.hidden:/x"],
    ["/abs:/x", "/abs", "/abs:/x"],
  ];
  for (const [given, source, spec] of cases)
    test(`-v ${given}`, () => {
      const m = parseVolumeFlag(given, cwd);
      assert.deepEqual([m.type, m.source, m.spec, m.flag], ["bind", source, spec, "volume"]);
    });

  test("a named volume keeps its name, an anonymous one has no source and no spec", () => {
    assert.deepEqual(parseVolumeFlag("data:/x", cwd), {
      type: "volume",
      source: "data",
      destination: "/x",
      readOnly: false,
      flag: "volume",
      spec: "data:/x",
    });
    const anon = parseVolumeFlag("/x", cwd);
    assert.equal(anon.source, "");
    assert.equal(anon.spec, undefined);
    assert.throws(() => parseVolumeFlag("./x", cwd), /mount path must be absolute/);
  });

  test("--mount src=./dir and src=. are resolved; other relative sources are refused", () => {
    assert.equal(parseMountFlag("type=bind,src=./dir,dst=/x", cwd).source, "/home/u/proj/dir");
    assert.equal(parseMountFlag("type=bind,source=.,target=/x", cwd).source, "/home/u/proj");
    assert.throws(() => parseMountFlag("type=bind,src=dir,dst=/x", cwd), /mount path must be absolute/);
    assert.equal(parseMountFlag("type=bind,src=./dir,dst=/x", cwd).flag, "mount");
  });
});
