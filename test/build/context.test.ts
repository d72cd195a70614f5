import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import {
  loadContext,
  matcher,
  parseByteSize,
  parseIgnoreFile,
  readStdinContext,
} from "../../src/build/context.js";
import { BuildContextError } from "../../src/build/errors.js";
import { tempDir } from "../helpers/processes.js";

function make(dir: string, entries: Record<string, string>): void {
  for (const [path, content] of Object.entries(entries)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

describe(".dockerignore patterns (Docker's semantics)", () => {
  const cases: [string[], string, boolean][] = [
    [["**/*.log"], "a.log", true],
    [["**/*.log"], "deep/er/a.log", true],
    [["*.log"], "deep/a.log", false],
    [["**/*.log", "!keep.log"], "keep.log", false],
    [["**/*.log", "!keep.log"], "sub/keep.log", true],
    [["docs/*"], "docs/a.md", true],
    [["docs/*"], "docs", false],
    [["docs/*"], "docs/sub/b.md", true],
    [["abc"], "abc", true],
    [["abc"], "dir/abc", false],
    [["*", "!src"], "src", false],
    [["*", "!src"], "other", true],
    [["a", "!a", "a"], "a", true],
  ];
  for (const [patterns, path, ignored] of cases) {
    it(`${patterns.join(" ")}: ${path} is ${ignored ? "ignored" : "kept"}`, () => {
      assert.equal(matcher(patterns)(path), ignored);
    });
  }

  it("reads the file as Docker does: comments, blank lines, a leading slash", () => {
    assert.deepEqual(parseIgnoreFile("# comment\n\n/build\n  *.tmp  \n! /keep\n"), [
      "build",
      "*.tmp",
      "!keep",
    ]);
  });
});

describe("loadContext", () => {
  it("a directory: the Dockerfile, what .dockerignore leaves visible, and its size", async () => {
    const dir = await tempDir("berth-ctx-");
    make(dir, { Dockerfile: "FROM scratch\n", "a.txt": "12345", "b.log": "xx", ".dockerignore": "*.log\n" });
    const ctx = await loadContext(
      { kind: "directory", path: dir },
      { scratch: join(dir, ".tmp"), maxSize: 1 << 20 },
    );
    try {
      assert.equal(ctx.dockerfile.text, "FROM scratch\n");
      assert.equal(ctx.dockerfile.name, "Dockerfile");
      assert.deepEqual(ctx.tree.list(""), [".dockerignore", "Dockerfile", "a.txt"]);
      assert.equal(ctx.size, 5 + 13 + 6);
    } finally {
      await ctx.dispose();
    }
  });

  it("prefers <Dockerfile>.dockerignore next to a -f Dockerfile", async () => {
    const dir = await tempDir("berth-ctx-");
    make(dir, {
      "build/app.Dockerfile": "FROM scratch\n",
      "build/app.Dockerfile.dockerignore": "a.txt\n",
      "a.txt": "a",
      ".dockerignore": "b.txt\n",
      "b.txt": "b",
    });
    const ctx = await loadContext(
      { kind: "directory", path: dir },
      { dockerfile: join(dir, "build/app.Dockerfile"), scratch: join(dir, ".tmp"), maxSize: 1 << 20 },
    );
    try {
      assert.equal(ctx.dockerfile.name, "app.Dockerfile");
      assert.equal(ctx.tree.entry("a.txt"), undefined);
      assert.ok(ctx.tree.entry("b.txt"));
    } finally {
      await ctx.dispose();
    }
  });

  it("refuses a context over the limit, pointing at .dockerignore", async () => {
    const dir = await tempDir("berth-ctx-");
    make(dir, { Dockerfile: "FROM scratch\n", "big.bin": "x".repeat(4096) });
    await assert.rejects(
      loadContext({ kind: "directory", path: dir }, { scratch: join(dir, ".tmp"), maxSize: 1024 }),
      (err: unknown) =>
        err instanceof BuildContextError &&
        /larger than the limit of 1KiB/.test(err.message) &&
        /\.dockerignore/.test(err.message),
    );
    writeFileSync(join(dir, ".dockerignore"), "big.bin\n");
    const ok = await loadContext(
      { kind: "directory", path: dir },
      { scratch: join(dir, ".tmp"), maxSize: 1024 },
    );
    await ok.dispose();
  });

  it("a tar (plain or gzip) is unpacked into the scratch space and removed afterwards", async () => {
    const dir = await tempDir("berth-ctx-");
    const src = join(dir, "src");
    make(src, { Dockerfile: "FROM scratch\nCOPY f /\n", f: "content" });
    execFileSync("tar", ["-czf", join(dir, "ctx.tar.gz"), "-C", src, "."]);
    const scratch = join(dir, "scratch");
    const ctx = await loadContext(
      { kind: "tar", stream: createReadStream(join(dir, "ctx.tar.gz")), description: "ctx.tar.gz" },
      { scratch, maxSize: 1 << 20 },
    );
    assert.equal(ctx.dockerfile.text, "FROM scratch\nCOPY f /\n");
    assert.ok(ctx.tree.entry("f")?.stat.isFile());
    await ctx.dispose();
    assert.deepEqual(execFileSync("ls", ["-A", scratch]).toString(), "");
    await assert.rejects(
      loadContext(
        { kind: "tar", stream: createReadStream(join(dir, "ctx.tar.gz")), description: "ctx.tar.gz" },
        { scratch, maxSize: 10 },
      ),
      BuildContextError,
    );
  });

  it("stdin: a tar is a context, anything else is a Dockerfile", async () => {
    const dir = await tempDir("berth-ctx-");
    make(dir, { "x/Dockerfile": "FROM scratch\n" });
    execFileSync("tar", ["-cf", join(dir, "c.tar"), "-C", join(dir, "x"), "."]);
    const asTar = await readStdinContext(createReadStream(join(dir, "c.tar")));
    assert.equal(asTar.input.kind, "tar");
    const asText = await readStdinContext(Readable.from([Buffer.from("FROM busybox\nRUN true\n")]));
    assert.equal(asText.input.kind, "none");
    assert.equal(asText.dockerfileText, "FROM busybox\nRUN true\n");
  });

  it("names a missing Dockerfile", async () => {
    const dir = await tempDir("berth-ctx-");
    await assert.rejects(
      loadContext({ kind: "directory", path: dir }, { scratch: join(dir, ".tmp"), maxSize: 1024 }),
      /failed to read dockerfile: open Dockerfile: no such file or directory/,
    );
  });

  it("reads sizes as the config file writes them", () => {
    assert.equal(parseByteSize("1024"), 1024);
    assert.equal(parseByteSize("4k"), 4096);
    assert.equal(parseByteSize("1.5GiB"), 1.5 * 1024 ** 3);
    assert.equal(parseByteSize("500m"), 500 * 1024 ** 2);
    assert.equal(parseByteSize("lots"), undefined);
  });
});
