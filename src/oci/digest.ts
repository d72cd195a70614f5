import type { Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { InvalidDigestError } from "./errors.js";

export type DigestAlgorithm = "sha256" | "sha512";

/** Hex length of each algorithm Berth accepts; the OCI image-spec registers exactly these two. */
const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

// The image-spec digest grammar, which a string must satisfy before we look at the algorithm.
const ALGORITHM_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED_RE = /^[a-zA-Z0-9=_-]+$/;
const LOWER_HEX_RE = /^[a-f0-9]+$/;

function isAlgorithm(s: string): s is DigestAlgorithm {
  return Object.hasOwn(HEX_LENGTH, s);
}

/** A content address: an algorithm and the lowercase hex of the hash. Immutable. */
export class Digest {
  private constructor(
    readonly algorithm: DigestAlgorithm,
    readonly hex: string,
  ) {}

  static parse(s: string): Digest {
    const reason = invalidReason(s);
    if (reason !== undefined) throw new InvalidDigestError(s, reason);
    const colon = s.indexOf(":");
    return new Digest(s.slice(0, colon) as DigestAlgorithm, s.slice(colon + 1));
  }

  static isValid(s: string): boolean {
    return typeof s === "string" && invalidReason(s) === undefined;
  }

  /** Builds a digest from its parts, with the same checks as `parse`. */
  static of(algorithm: DigestAlgorithm, hex: string): Digest {
    return Digest.parse(`${algorithm}:${hex}`);
  }

  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  /** So a Digest inside an object serialises as the string the specs expect. */
  toJSON(): string {
    return this.toString();
  }

  equals(other: Digest | string): boolean {
    return this.toString() === (typeof other === "string" ? other : other.toString());
  }
}

function invalidReason(s: string): string | undefined {
  if (typeof s !== "string") return "not a string";
  const colon = s.indexOf(":");
  if (colon < 0) return "missing ':' between algorithm and encoded part";
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (!ALGORITHM_RE.test(algorithm)) return "malformed algorithm";
  if (!ENCODED_RE.test(encoded)) return "malformed encoded part";
  if (!isAlgorithm(algorithm)) return `unsupported digest algorithm ${JSON.stringify(algorithm)}`;
  if (!LOWER_HEX_RE.test(encoded)) return `${algorithm} digests must be lowercase hexadecimal`;
  const want = HEX_LENGTH[algorithm];
  if (encoded.length !== want) {
    return `${algorithm} digests have ${want} hex characters, got ${encoded.length}`;
  }
  return undefined;
}

function checkAlgorithm(algorithm: string): DigestAlgorithm {
  if (!isAlgorithm(algorithm)) {
    throw new InvalidDigestError(
      `${algorithm}:`,
      `unsupported digest algorithm ${JSON.stringify(algorithm)}`,
    );
  }
  return algorithm;
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return new Digester(algorithm).update(typeof data === "string" ? Buffer.from(data, "utf8") : data).digest();
}

/** Hashes content that arrives in chunks, counting the bytes as it goes. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  readonly #hash: Hash;
  #bytes = 0;
  #result: Digest | undefined;

  constructor(algorithm: DigestAlgorithm = "sha256") {
    this.algorithm = checkAlgorithm(algorithm);
    // node:crypto is loaded on first use: commands that only read the image store never hash,
    // and loading it costs every start ~5 ms.
    this.#hash = process.getBuiltinModule("node:crypto").createHash(this.algorithm);
  }

  update(chunk: Uint8Array): this {
    if (this.#result !== undefined) throw new Error("Digester.update() called after digest()");
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
    return this;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Finishes the hash. Later calls return the same digest; later updates throw. */
  digest(): Digest {
    this.#result ??= Digest.parse(`${this.algorithm}:${this.#hash.digest("hex")}`);
    return this.#result;
  }
}

/** A pass-through stream that hashes everything flowing through it. */
export class DigestTransform extends Transform {
  readonly digester: Digester;

  constructor(algorithm: DigestAlgorithm = "sha256") {
    super();
    this.digester = new Digester(algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.digester.update(chunk);
    callback(null, chunk);
  }
}

export function digestTransform(algorithm: DigestAlgorithm = "sha256"): DigestTransform {
  return new DigestTransform(algorithm);
}
