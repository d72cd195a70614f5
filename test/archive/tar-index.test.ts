import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, open, readFile, symlink, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { NotAnArchiveError, TruncatedArchiveError, UnsafeMemberError } from "../../src/archive/errors.js";
import { TarFiles } from "../../src/archive/files.js";
import { cleanMemberName, indexTar } from "../../src/archive/tar-index.js";
import { runOk, tempDir } from "../helpers/processes.js";
import { writeTar } from "./helpers.js";

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function slice(path: string, offset: number, size: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(size);
    await fh.read(b, 0, size, offset);
    return b;
  } finally {
    await fh.close();
  }
}

describe("indexTar", () => {
  test("records each member's data offset, size, digest and first bytes", async () => {
    const dir = await tempDir("berth-tarindex-");
    const path = join(dir, "a.tar");
    const long = `${"d".repeat(120)}/${"f".repeat(120)}.json`;
    const big = Buffer.alloc(700_001, 7);
    await writeTar(path, [
      { name: "./manifest.json", body: "[]" },
      { name: long, body: "long name" },
      { name: "big", body: big },
      { name: "empty", body: "" },
      { name: "sub/", type: "directory" },
      { name: "sub/link", type: "symlink", linkname: "../big" },
      { name: "hard", type: "link", linkname: "./big" },
    ]);
    const members = await indexTar(path);
    assert.deepEqual([...members.keys()], ["manifest.json", long, "big", "empty", "sub", "sub/link", "hard"]);
    for (const [name, body] of [
      ["manifest.json", Buffer.from("[]")],
      [long, Buffer.from("long name")],
      ["big", big],
      ["empty", Buffer.alloc(0)],
    ] as const) {
      const m = members.get(name)!;
      assert.equal(m.type, "file");
      assert.equal(m.size, body.length, name);
      assert.equal(m.digest, sha256(body), name);
      assert.deepEqual(await slice(path, m.offset, m.size), body, name);
      assert.deepEqual(m.head, body.subarray(0, 8));
    }
    assert.equal(members.get("sub/link")!.linkname, "../big");
    assert.equal(members.get("hard")!.linkname, "big");

    const files = new TarFiles(path, "a.tar", members);
    for (const name of ["sub/link", "hard", "big", "./big"]) {
      const info = await files.stat(name);
      assert.deepEqual(info, { name: "big", size: big.length }, name);
    }
    assert.equal(await files.stat("missing"), undefined);
    const chunks: Buffer[] = [];
    for await (const c of files.open((await files.stat("big"))!, 700_000)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from([7]));
  });

  test("reads GNU tar's long names and links, as written by the tar command", async () => {
    const dir = await tempDir("berth-tarindex-gnu-");
    const src = join(dir, "src");
    const deep = join(src, "x".repeat(90), "y".repeat(90));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "file.txt"), "deep content");
    await symlink(`${"y".repeat(90)}/file.txt`, join(src, "x".repeat(90), "l".repeat(110)));
    for (const format of ["gnu", "pax", "ustar"]) {
      if (format === "ustar") continue; // a 110-character link name does not fit ustar
      const path = join(dir, `${format}.tar`);
      await runOk("tar", ["--format", format, "-C", src, "-cf", path, "."]);
      const files = new TarFiles(path, path, await indexTar(path));
      const info = await files.stat(`${"x".repeat(90)}/${"l".repeat(110)}`);
      assert.equal(info?.name, `${"x".repeat(90)}/${"y".repeat(90)}/file.txt`, format);
      assert.equal((await files.describe(info!)).digest, sha256("deep content"), format);
    }
  });

  test("refuses what is not a tar, a truncated tar, and names leaving the archive", async () => {
    const dir = await tempDir("berth-tarindex-bad-");
    const text = join(dir, "text");
    await writeFile(text, "not a tar\n".repeat(100));
    await assert.rejects(indexTar(text), NotAnArchiveError);
    const short = join(dir, "short");
    await writeFile(short, "tiny");
    await assert.rejects(indexTar(short), NotAnArchiveError);
    const zeros = join(dir, "zeros");
    await writeFile(zeros, Buffer.alloc(10240));
    await assert.rejects(indexTar(zeros), NotAnArchiveError);

    const good = join(dir, "good.tar");
    await writeTar(good, [
      { name: "a", body: Buffer.alloc(5000, 1) },
      { name: "b", body: "b" },
    ]);
    const cut = join(dir, "cut.tar");
    await writeFile(cut, await readFile(good));
    await truncate(cut, 3000);
    await assert.rejects(indexTar(cut), (err: unknown) => {
      assert.ok(err instanceof TruncatedArchiveError);
      assert.match(err.message, /truncated.*"a"/);
      return true;
    });
    // Cut at a header boundary without the end-of-archive blocks: accepted, as Go's tar does.
    await writeFile(cut, (await readFile(good)).subarray(0, 512 + 5120 + 1024));
    assert.deepEqual([...(await indexTar(cut)).keys()], ["a", "b"]);
    await writeFile(cut, (await readFile(good)).subarray(0, 512 + 5120 + 100));
    await assert.rejects(indexTar(cut), TruncatedArchiveError);

    for (const entries of [
      [{ name: "../evil", body: "x" }],
      [{ name: "a/../../evil", body: "x" }],
      [{ name: "a", type: "symlink" as const, linkname: "../../etc/passwd" }],
      [{ name: "a", type: "symlink" as const, linkname: "b/../../.." }],
      [{ name: "h", type: "link" as const, linkname: "../x" }],
    ]) {
      const path = join(dir, "evil.tar");
      await writeTar(path, entries);
      await assert.rejects(indexTar(path), UnsafeMemberError, JSON.stringify(entries));
    }
  });

  test("member names are made relative; '..' may not climb out", () => {
    for (const [raw, clean] of [
      ["./a/b/", "a/b"],
      ["a//b", "a/b"],
      ["/abs/x", "abs/x"],
      ["a/./b/../c", "a/c"],
      [".", ""],
    ] as const) {
      assert.equal(cleanMemberName(raw, "t"), clean, raw);
    }
    for (const raw of ["..", "../a", "a/../../b", "a\0b"]) {
      assert.throws(() => cleanMemberName(raw, "t"), UnsafeMemberError, raw);
    }
  });
});
