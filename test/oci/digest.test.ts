import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Digest, Digester, digestOf, digestTransform } from "../../src/oci/digest.js";
import { InvalidDigestError } from "../../src/oci/errors.js";

// Published test vectors (FIPS 180-2 examples and the well-known empty-input hashes).
const SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_FOX = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";
const SHA256_MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
const SHA512_EMPTY =
  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const SHA512_ABC =
  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
// The OCI empty descriptor's digest: sha256 of "{}", as published in the image-spec.
const SHA256_EMPTY_JSON = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

const GRAMMAR = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

describe("Digest.parse", () => {
  const valid: [input: string, algorithm: string, hex: string][] = [
    [`sha256:${SHA256_EMPTY}`, "sha256", SHA256_EMPTY],
    [`sha512:${SHA512_EMPTY}`, "sha512", SHA512_EMPTY],
    // image-spec descriptor examples
    [
      "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
      "sha256",
      "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
    ],
    [
      "sha512:401b09eab3c013d4ca54922bb802bec8fd5318192b0a75f201d8b3727429080fb337591abd3e44453b954555b7a0812e1081c39b740293f765eae731f5a65ed1",
      "sha512",
      "401b09eab3c013d4ca54922bb802bec8fd5318192b0a75f201d8b3727429080fb337591abd3e44453b954555b7a0812e1081c39b740293f765eae731f5a65ed1",
    ],
  ];
  for (const [input, algorithm, hex] of valid) {
    it(`accepts ${input.slice(0, 20)}…`, () => {
      const d = Digest.parse(input);
      assert.equal(d.algorithm, algorithm);
      assert.equal(d.hex, hex);
      assert.equal(d.toString(), input);
      assert.equal(Digest.isValid(input), true);
    });
  }

  const invalid: [input: string, why: RegExp][] = [
    ["", /missing ':'/],
    ["sha256", /missing ':'/],
    [SHA256_EMPTY, /missing ':'/],
    ["sha256:", /malformed encoded/],
    [`:${SHA256_EMPTY}`, /malformed algorithm/],
    [`SHA256:${SHA256_EMPTY}`, /malformed algorithm/],
    [`sha256 :${SHA256_EMPTY}`, /malformed algorithm/],
    [`sha256::${SHA256_EMPTY}`, /malformed encoded/],
    [`sha256:${SHA256_EMPTY.toUpperCase()}`, /lowercase hexadecimal/],
    [`sha256:${SHA256_EMPTY.slice(0, 63)}g`, /lowercase hexadecimal/],
    [`sha256:${SHA256_EMPTY.slice(0, 63)}`, /64 hex characters, got 63/],
    [`sha256:${SHA256_EMPTY}0`, /64 hex characters, got 65/],
    [`sha256:${SHA512_EMPTY}`, /64 hex characters, got 128/],
    [`sha512:${SHA256_EMPTY}`, /128 hex characters, got 64/],
    [`sha384:${"a".repeat(96)}`, /unsupported digest algorithm "sha384"/],
    [`md5:${"d41d8cd98f00b204e9800998ecf8427e"}`, /unsupported digest algorithm "md5"/],
    // Valid under the image-spec grammar but not registered algorithms (the spec's own examples).
    ["multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", /unsupported digest algorithm/],
    ["sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", /unsupported digest algorithm/],
    [`sha256:${SHA256_EMPTY}\n`, /malformed encoded/],
    [` sha256:${SHA256_EMPTY}`, /malformed algorithm/],
    ["sha256:/etc/passwd", /malformed encoded/],
  ];
  for (const [input, why] of invalid) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.equal(Digest.isValid(input), false);
      assert.throws(
        () => Digest.parse(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidDigestError);
          assert.equal(err.code, "DIGEST_INVALID");
          assert.equal(err.name, "InvalidDigestError");
          assert.equal(err.input, input);
          assert.match(err.message, why);
          return true;
        },
      );
    });
  }

  it("Digest.of builds from parts with the same checks", () => {
    assert.equal(Digest.of("sha256", SHA256_ABC).toString(), `sha256:${SHA256_ABC}`);
    assert.throws(() => Digest.of("sha256", "abc"), InvalidDigestError);
  });
});

describe("Digest.equals", () => {
  const d = Digest.parse(`sha256:${SHA256_ABC}`);
  it("compares with digests and strings", () => {
    assert.equal(d.equals(Digest.parse(`sha256:${SHA256_ABC}`)), true);
    assert.equal(d.equals(`sha256:${SHA256_ABC}`), true);
    assert.equal(d.equals(`sha256:${SHA256_EMPTY}`), false);
    assert.equal(d.equals(Digest.parse(`sha512:${SHA512_ABC}`)), false);
    assert.equal(d.equals(`sha256:${SHA256_ABC.toUpperCase()}`), false);
    assert.equal(d.equals("garbage"), false);
  });
  it("serialises to its string form in JSON", () => {
    assert.equal(JSON.stringify({ d }), `{"d":"sha256:${SHA256_ABC}"}`);
  });
});

describe("digestOf", () => {
  const vectors: [
    input: string | Uint8Array,
    algorithm: "sha256" | "sha512" | undefined,
    expected: string,
  ][] = [
    ["", undefined, `sha256:${SHA256_EMPTY}`],
    [new Uint8Array(0), "sha256", `sha256:${SHA256_EMPTY}`],
    ["abc", undefined, `sha256:${SHA256_ABC}`],
    [new TextEncoder().encode("abc"), "sha256", `sha256:${SHA256_ABC}`],
    ["The quick brown fox jumps over the lazy dog", "sha256", `sha256:${SHA256_FOX}`],
    ["{}", "sha256", `sha256:${SHA256_EMPTY_JSON}`],
    ["", "sha512", `sha512:${SHA512_EMPTY}`],
    ["abc", "sha512", `sha512:${SHA512_ABC}`],
  ];
  for (const [input, algorithm, expected] of vectors) {
    it(`${algorithm ?? "default"} of ${JSON.stringify(typeof input === "string" ? input : `bytes(${input.length})`)}`, () => {
      assert.equal(digestOf(input, algorithm).toString(), expected);
    });
  }

  it("hashes strings as UTF-8", () => {
    assert.ok(digestOf("é").equals(digestOf(new Uint8Array([0xc3, 0xa9]))));
  });
});

describe("Digester", () => {
  it("hashes a million 'a's fed in uneven chunks (FIPS 180-2 vector)", () => {
    const digester = new Digester();
    const chunk = new Uint8Array(999).fill(0x61);
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      digester.update(chunk.subarray(0, n));
      left -= n;
    }
    assert.equal(digester.bytes, 1_000_000);
    assert.equal(digester.digest().toString(), `sha256:${SHA256_MILLION_A}`);
  });

  it("counts bytes and supports sha512", () => {
    const digester = new Digester("sha512");
    assert.equal(digester.bytes, 0);
    digester.update(new TextEncoder().encode("a")).update(new TextEncoder().encode("bc"));
    assert.equal(digester.bytes, 3);
    assert.equal(digester.digest().toString(), `sha512:${SHA512_ABC}`);
  });

  it("returns the same digest when asked twice, and refuses updates afterwards", () => {
    const digester = new Digester();
    const first = digester.digest();
    assert.equal(first.toString(), `sha256:${SHA256_EMPTY}`);
    assert.equal(digester.digest().toString(), first.toString());
    assert.throws(() => digester.update(new Uint8Array(1)), /after digest/);
  });

  it("refuses unknown algorithms", () => {
    assert.throws(() => new Digester("md5" as "sha256"), InvalidDigestError);
  });
});

describe("digestTransform", () => {
  it("passes bytes through unchanged and hashes them", async () => {
    const transform = digestTransform();
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from("a"), Buffer.from("b"), Buffer.from("c")]),
      transform,
      async (source) => {
        for await (const chunk of source) out.push(chunk as Buffer);
      },
    );
    assert.equal(Buffer.concat(out).toString(), "abc");
    assert.equal(transform.digester.bytes, 3);
    assert.equal(transform.digester.digest().toString(), `sha256:${SHA256_ABC}`);
  });

  it("hashes string writes as their UTF-8 bytes", async () => {
    const transform = digestTransform("sha512");
    transform.end("abc");
    for await (const _ of transform) {
      // drain
    }
    assert.equal(transform.digester.digest().toString(), `sha512:${SHA512_ABC}`);
  });
});

describe("digest properties", () => {
  const algorithm = fc.constantFrom("sha256" as const, "sha512" as const);

  it("parse(toString(d)) equals d", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), algorithm, (data, alg) => {
        const d = digestOf(data, alg);
        const again = Digest.parse(d.toString());
        assert.equal(again.algorithm, d.algorithm);
        assert.equal(again.hex, d.hex);
        assert.ok(again.equals(d));
        assert.match(d.toString(), GRAMMAR);
      }),
    );
  });

  it("any string accepted matches the grammar, and everything refused throws InvalidDigestError", () => {
    const hexChars = fc.constantFrom(..."0123456789abcdefABCDEFgz");
    const piece = fc.oneof(
      fc.constantFrom("sha256", "sha512", "sha384", "SHA256", "sha256+b64u", ":", "", "-", "="),
      fc.string({ unit: hexChars, minLength: 62, maxLength: 66 }),
      fc.string({ unit: hexChars, minLength: 126, maxLength: 130 }),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 128, maxLength: 128 }),
      fc.string(),
    );
    const candidate = fc.oneof(
      fc.tuple(piece, piece, piece).map((parts) => parts.join("")),
      fc.tuple(fc.constantFrom("sha256", "sha512"), piece).map(([a, h]) => `${a}:${h}`),
      fc.string(),
    );
    let accepted = 0;
    fc.assert(
      fc.property(candidate, (s) => {
        let parsed: Digest | undefined;
        try {
          parsed = Digest.parse(s);
        } catch (err) {
          assert.ok(err instanceof InvalidDigestError, `unexpected ${String(err)}`);
        }
        assert.equal(Digest.isValid(s), parsed !== undefined);
        if (parsed !== undefined) {
          accepted++;
          assert.match(s, GRAMMAR);
          assert.equal(parsed.toString(), s);
        } else {
          assert.doesNotMatch(s, GRAMMAR);
        }
      }),
      { numRuns: 2000 },
    );
    // Guard against a generator that never produces a valid digest, which would make this vacuous.
    assert.ok(accepted > 0, "the generator produced no valid digests");
  });

  it("a Digester over any chunking of the data equals digestOf the whole", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.nat({ max: 2048 }), { maxLength: 12 }),
        algorithm,
        (data, cuts, alg) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const digester = new Digester(alg);
          let start = 0;
          for (const point of [...points, data.length]) {
            digester.update(data.subarray(start, point));
            start = point;
          }
          assert.equal(digester.bytes, data.length);
          assert.ok(digester.digest().equals(digestOf(data, alg)));
        },
      ),
    );
  });
});
