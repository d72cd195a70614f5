import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { compressStream, decompressStream, findProgram } from "../../src/layer/compression.js";
import { CorruptLayerError } from "../../src/layer/errors.js";

async function gzip(data: Buffer, chunk: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) pieces.push(Buffer.from(data.subarray(i, i + chunk)));
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(compressStream("gzip"))) out.push(c as Buffer);
  return Buffer.concat(out);
}

const random = (n: number) => {
  const c = createCipheriv("aes-256-ctr", Buffer.alloc(32, 3), Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(n)), c.final()]);
};
const text = Buffer.from("layer text that compresses well, line after line\n".repeat(80_000));

describe("gzip in 1 MiB blocks", () => {
  for (const [name, data] of [
    ["text", text],
    ["incompressible", random(3 * 1024 * 1024 + 17)],
    ["empty", Buffer.alloc(0)],
    ["one byte", Buffer.from("x")],
    ["mixed", Buffer.concat([random(1024 * 1024), text, random(70_000)])],
  ] as [string, Buffer][]) {
    it(`${name}: gunzip (zlib and gzip(1)) gives the input back`, async () => {
      const gz = await gzip(data, 65_536);
      assert.ok(gunzipSync(gz).equals(data));
      assert.ok(execFileSync("gzip", ["-dc"], { input: gz, maxBuffer: 1 << 28 }).equals(data));
    });
  }

  it("gives the same bytes however the input is cut", async () => {
    const data = Buffer.concat([text, random(1_500_000)]);
    const digest = async (d: Buffer, chunk: number) =>
      createHash("sha256")
        .update(await gzip(d, chunk))
        .digest("hex");
    const whole = await digest(data, data.length);
    for (const chunk of [4093, 65_536, 1 << 20])
      assert.equal(await digest(data, chunk), whole, `chunks of ${chunk}`);
    const prefix = data.subarray(0, 100_000);
    assert.equal(await digest(prefix, 1), await digest(prefix, prefix.length), "one byte at a time");
  });

  it("stores what does not compress, and compresses what does", async () => {
    const rnd = random(4 * 1024 * 1024);
    const gz = await gzip(rnd, 1 << 20);
    assert.ok(gz.length < rnd.length * 1.001, `${gz.length} bytes for ${rnd.length}`);
    assert.ok((await gzip(text, 1 << 20)).length < text.length / 50);
  });
});

describe("gunzip: ISA-L's igzip where installed, zlib otherwise (BERTH_GUNZIP=zlib)", () => {
  /** Decompresses `gz` fed in 50 KB pieces, with igzip or zlib. */
  async function gunzip(gz: Buffer, using: "igzip" | "zlib"): Promise<Buffer> {
    const before = process.env.BERTH_GUNZIP;
    if (using === "zlib") process.env.BERTH_GUNZIP = "zlib";
    try {
      const pieces: Buffer[] = [];
      for (let i = 0; i < gz.length; i += 50_000) pieces.push(gz.subarray(i, i + 50_000));
      const out: Buffer[] = [];
      for await (const c of Readable.from(pieces).pipe(decompressStream("gzip"))) out.push(c as Buffer);
      return Buffer.concat(out);
    } finally {
      if (before === undefined) delete process.env.BERTH_GUNZIP;
      else process.env.BERTH_GUNZIP = before;
    }
  }

  it("igzip is installed here (Debian's isal, which .ci/run installs)", () => {
    assert.match(findProgram("igzip") ?? "", /\/igzip$/);
    assert.equal(findProgram("no-such-program-berth"), undefined);
  });

  for (const using of ["igzip", "zlib"] as const) {
    it(`${using}: Berth's block gzip, gzip(1)'s output and a two-member file give the input back`, async () => {
      const data = Buffer.concat([text, random(2_000_000)]);
      assert.ok((await gunzip(await gzip(data, 65_536), using)).equals(data));
      assert.ok((await gunzip(gzipSync(data), using)).equals(data));
      const two = Buffer.concat([gzipSync(text), gzipSync(Buffer.from("and more\n"))]);
      assert.ok((await gunzip(two, using)).equals(Buffer.concat([text, Buffer.from("and more\n")])));
    });

    it(`${using}: a truncated or damaged stream fails, and does not end as if complete`, async () => {
      const gz = gzipSync(text);
      await assert.rejects(gunzip(gz.subarray(0, gz.length - 100), using));
      const damaged = Buffer.from(gz);
      damaged[gz.length >> 1]! ^= 0xff;
      await assert.rejects(
        gunzip(damaged, using),
        using === "igzip" ? CorruptLayerError : /invalid|incorrect|unexpected/,
      );
    });
  }
});
