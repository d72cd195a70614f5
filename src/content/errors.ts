import { BerthError } from "../errors.js";
/** The bytes that arrived do not hash to the digest they were fetched or loaded under. */
export class DigestMismatchError extends BerthError {
  override readonly name = "DigestMismatchError";
  override readonly code = "DIGEST_MISMATCH";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/** The content was longer or shorter than the size it was announced with. */
export class SizeMismatchError extends BerthError {
  override readonly name = "SizeMismatchError";
  override readonly code = "SIZE_MISMATCH";
  constructor(
    readonly digest: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`size mismatch for ${digest}: expected ${expected} bytes, got ${actual}`);
  }
}

export class BlobNotFoundError extends BerthError {
  override readonly name = "BlobNotFoundError";
  override readonly code = "BLOB_NOT_FOUND";
  constructor(readonly digest: string) {
    super(`blob not found in the local store: ${digest}`);
  }
}
