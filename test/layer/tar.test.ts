import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { extract, type Header } from "tar-stream";
import { CorruptLayerError } from "../../src/layer/errors.js";
import {
  compareStrings,
  END_OF_ARCHIVE,
  encodeHeader,
  padding,
  type TarEntry,
  TarReader,
} from "../../src/layer/tar.js";
import { makeTar } from "./fixtures.js";

interface Read {
  entry: TarEntry;
  body: Buffer;
}

/** Parses with TarReader, feeding `step` bytes at a time. */
function read(tar: Buffer, step = tar.length): Read[] {
  const out: Read[] = [];
  let chunks: Buffer[] = [];
  const reader = new TarReader({
    entry: (entry) => {
      out.push({ entry, body: Buffer.alloc(0) });
      chunks = [];
    },
    data: (chunk) => chunks.push(Buffer.from(chunk)),
    entryEnd: () => {
      out[out.length - 1]!.body = Buffer.concat(chunks);
    },
  });
  for (let i = 0; i < tar.length; i += step) reader.push(tar.subarray(i, i + step));
  reader.end();
  return out;
}

describe("TarReader", () => {
  test("reads what tar-stream writes, whatever the chunking", async () => {
    const mtime = new Date("2019-05-06T07:08:09Z");
    const tar = await makeTar([
      { name: "dir/", type: "directory", mode: 0o2755, uid: 5, gid: 6, mtime },
      { name: "dir/file", body: "content\n", mode: 0o4711, uid: 1234, gid: 4321, mtime },
      { name: `${"p".repeat(90)}/${"n".repeat(90)}`, body: "ustar prefix" },
      { name: `${"x".repeat(300)}`, body: "PAX path" },
      { name: "sym", type: "symlink", linkname: "l".repeat(150) },
      { name: "hard", type: "link", linkname: "dir/file" },
      { name: "chr", type: "character-device", devmajor: 4, devminor: 64 },
      { name: "xattr", body: "", pax: { "SCHILY.xattr.user.a": "1", "SCHILY.xattr.security.b": "two" } },
      // tar-stream writes large ids only through PAX records it is given.
      { name: "big-uid", body: "x", pax: { uid: String(0o7777777 + 1) } },
    ]);
    for (const step of [tar.length, 512, 100, 1]) {
      const got = read(tar, step);
      assert.deepEqual(
        got.map((r) => r.entry.name),
        [
          "dir/",
          "dir/file",
          `${"p".repeat(90)}/${"n".repeat(90)}`,
          "x".repeat(300),
          "sym",
          "hard",
          "chr",
          "xattr",
          "big-uid",
        ],
      );
      const file = got[1]!.entry;
      assert.deepEqual(
        [file.type, file.mode, file.uid, file.gid, file.mtime, file.size],
        ["file", 0o4711, 1234, 4321, mtime.getTime() / 1000, 8],
      );
      assert.equal(got[1]!.body.toString(), "content\n");
      assert.equal(got[3]!.body.toString(), "PAX path");
      assert.equal(got[4]!.entry.linkname, "l".repeat(150));
      assert.deepEqual([got[5]!.entry.type, got[5]!.entry.linkname], ["link", "dir/file"]);
      assert.deepEqual([got[6]!.entry.devmajor, got[6]!.entry.devminor], [4, 64]);
      assert.equal(got[7]!.entry.xattrs?.get("security.b")?.toString(), "two");
      assert.equal(got[8]!.entry.uid, 0o7777777 + 1);
    }
  });

  test("GNU long names and base-256 numbers", () => {
    // Built by hand: tar-stream does not write GNU long-name records.
    const longName = `gnu/${"g".repeat(150)}`;
    const block = (name: string, typeflag: string, size: number) => {
      const h = encodeHeader({ name, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
      h[156] = typeflag.charCodeAt(0);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
      return h;
    };
    const nameBody = Buffer.from(`${longName}\0`);
    const file = encodeHeader({
      name: "short",
      type: "file",
      mode: 0o600,
      uid: 0,
      gid: 0,
      size: 3,
      mtime: 1,
    });
    // uid as base-256
    file.fill(0, 108, 116);
    file[108] = 0x80;
    file.writeUInt32BE(3_000_000_000, 112);
    file.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of file) sum += b;
    file.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
    const tar = Buffer.concat([
      block("././@LongLink", "L", nameBody.length),
      nameBody,
      Buffer.alloc(padding(nameBody.length)),
      file,
      Buffer.from("abc"),
      Buffer.alloc(padding(3)),
      END_OF_ARCHIVE,
    ]);
    const [got] = read(tar, 7);
    assert.equal(got?.entry.name, longName);
    assert.equal(got?.entry.uid, 3_000_000_000);
    assert.equal(got?.body.toString(), "abc");
  });

  test("bad checksums and cut-off archives are CorruptLayerError", async () => {
    const tar = await makeTar([{ name: "f", body: "x".repeat(1000) }]);
    const bad = Buffer.from(tar);
    bad[0] = 0x7a;
    assert.throws(() => read(bad), CorruptLayerError);
    assert.throws(() => read(tar.subarray(0, 1000)), CorruptLayerError);
    assert.throws(() => read(tar.subarray(0, 300)), CorruptLayerError);
    assert.equal(read(tar.subarray(0, 1536)).length, 1, "a missing end marker is tolerated");
  });

  test("an oversized metadata entry is named in words, not by its type letter", () => {
    // A header claiming a 9 MiB body, retyped as each metadata kind, its checksum recomputed by hand.
    const retyped = (letter: string): Buffer => {
      const h = encodeHeader({
        name: "meta",
        type: "file",
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 9 << 20,
        mtime: 0,
      });
      h[156] = letter.charCodeAt(0);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      return h;
    };
    const cases: [string, string][] = [
      ["x", "a PAX extended header"],
      ["g", "a PAX global header"],
      ["L", "a GNU long name entry"],
      ["K", "a GNU long link name entry"],
    ];
    for (const [letter, words] of cases) {
      assert.throws(
        () => read(retyped(letter)),
        (err: unknown) =>
          err instanceof CorruptLayerError &&
          err.message === `${words} of ${9 * 1024 * 1024} bytes is too large (at byte 0)`,
        letter,
      );
    }
  });
});

describe("encodeHeader", () => {
  test("tar-stream reads what it writes", async () => {
    const entries = [
      encodeHeader({
        name: "a/",
        type: "directory",
        mode: 0o1777,
        uid: 1,
        gid: 2,
        size: 0,
        mtime: 1_600_000_000,
      }),
      encodeHeader({
        name: `${"long/".repeat(40)}file`,
        type: "file",
        mode: 0o4755,
        uid: 1234,
        gid: 1234,
        size: 0,
        mtime: 5,
      }),
      encodeHeader({
        name: "ü",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 5,
        linkname: "é".repeat(80),
      }),
      encodeHeader({
        name: "x",
        type: "file",
        mode: 0o644,
        uid: 0o7777777 + 10,
        gid: 3,
        size: 0,
        mtime: 5,
        xattrs: new Map([["user.k", Buffer.from("v")]]),
      }),
      encodeHeader({
        name: "c",
        type: "character-device",
        mode: 0o600,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
        devmajor: 10,
        devminor: 200,
      }),
      END_OF_ARCHIVE,
    ];
    const headers: Header[] = [];
    const ex = extract();
    ex.on("entry", (h, body, next) => {
      headers.push(h);
      body.resume();
      body.on("end", () => next());
    });
    await new Promise<void>((resolve, reject) => {
      ex.on("finish", resolve);
      ex.on("error", reject);
      ex.end(Buffer.concat(entries));
    });
    assert.deepEqual(
      headers.map((h) => [h.name, h.type, h.mode, h.uid]),
      [
        ["a/", "directory", 0o1777, 1],
        [`${"long/".repeat(40)}file`, "file", 0o4755, 1234],
        ["ü", "symlink", 0o777, 0],
        ["x", "file", 0o644, 0o7777777], // the largest ustar id; the real one is in PAX
        ["c", "character-device", 0o600, 0],
      ],
    );
    assert.equal(headers[2]?.linkname, "é".repeat(80));
    const pax = headers[3]?.pax as Record<string, string>;
    assert.equal(pax["SCHILY.xattr.user.k"], "v");
    assert.equal(pax.uid, String(0o7777777 + 10));
    assert.deepEqual([headers[4]?.devmajor, headers[4]?.devminor], [10, 200]);
  });
});

describe("compareStrings", () => {
  test("orders as the UTF-8 bytes do, for any characters (tar and layer order)", () => {
    // Characters above U+FFFF and U+E000-U+FFFF are where UTF-16 order and byte order differ.
    const char = fc.oneof(
      fc.constantFrom("a", "b", "/", ".", "\u00fc", "\uffff", "\ue000", "\u{1f600}", "\u{10000}", "\ud7ff"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    );
    const name = fc.array(char, { maxLength: 8 }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(name, name, (a, b) => {
        const expected = Math.sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        assert.equal(Math.sign(compareStrings(a, b)), expected);
        assert.equal(Math.sign(compareStrings(b, a)), -expected || 0);
      }),
      { numRuns: 5000 },
    );
    assert.ok(compareStrings("\uffff", "\u{10000}") < 0, "U+FFFF sorts before U+10000, unlike UTF-16 order");
  });
});
