import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { HelperBatch } from "../../src/runtime/exec-file.js";

describe("helper batches (one shell, side by side)", () => {
  test("each job gets its own exit status and stderr, its working directory and its arguments verbatim", async () => {
    const batch = new HelperBatch();
    const results = Promise.all([
      batch.exec("sh", [
        "-c",
        'echo "to stderr: $1" >&2; sleep 0.3; exit 3',
        "sh",
        "it's a 'quoted' $HOME \\ arg",
      ]),
      batch.exec("sh", ["-c", "pwd >&2; sleep 0.3"], { cwd: "/usr" }),
      batch.exec("no-such-program-here", []),
      batch.exec("sh", ["-c", "printf 'no newline' >&2; kill -9 $$"]),
    ]);
    batch.flush();
    const [a, b, c, d] = await results;
    assert.deepEqual([a.code, a.stderr], [3, "to stderr: it's a 'quoted' $HOME \\ arg\n"]);
    assert.deepEqual([b.code, b.stderr], [0, "/usr\n"]);
    assert.equal(c.code, 127);
    assert.match(c.stderr, /no-such-program-here: not found/);
    assert.deepEqual([d.code, d.stderr], [137, "no newline"]);
  });

  test("jobs run side by side: the first waits for a file the second makes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-batch-"));
    const flag = join(dir, "flag");
    const batch = new HelperBatch();
    const both = Promise.all([
      batch.exec("sh", [
        "-c",
        'i=0; while [ ! -e "$1" ]; do i=$((i+1)); [ $i -gt 2000 ] && exit 1; sleep 0.01; done',
        "sh",
        flag,
      ]),
      batch.exec("sh", ["-c", 'sleep 0.1; : > "$1"', "sh", flag]),
    ]);
    batch.flush();
    assert.deepEqual(
      (await both).map((r) => r.code),
      [0, 0],
    );
    await rm(dir, { recursive: true });
  });

  test("a lone job, and more jobs than a shell has descriptors for, all run", async () => {
    const lone = new HelperBatch();
    const one = lone.exec("sh", ["-c", "echo alone >&2; exit 5"]);
    lone.flush();
    assert.deepEqual([(await one).code, (await one).stderr], [5, "alone\n"]);
    const many = new HelperBatch();
    const all = Promise.all(
      Array.from({ length: 12 }, (_, i) => many.exec("sh", ["-c", `echo ${i} >&2; exit ${i}`])),
    );
    many.flush();
    assert.deepEqual(
      (await all).map((r) => [r.code, r.stderr]),
      Array.from({ length: 12 }, (_, i) => [i, `${i}\n`]),
    );
  });
});
