/** The uncompressed layer does not hash to the diff_id the image config names. */
export class DiffIdMismatchError extends Error {
  override readonly name = "DiffIdMismatchError";
  readonly code = "DIFF_ID_MISMATCH";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`layer diff_id mismatch: expected ${expected}, got ${actual}`);
  }
}

/** A layer entry that would write outside the layer directory, or through a link. */
export class UnsafeLayerError extends Error {
  override readonly name = "UnsafeLayerError";
  readonly code = "UNSAFE_LAYER";
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`refusing layer entry ${JSON.stringify(entry)}: ${reason}`);
  }
}

/** The layer is not a readable tar (bad checksum, cut off, an unsupported entry kind). */
export class CorruptLayerError extends Error {
  override readonly name = "CorruptLayerError";
  readonly code = "CORRUPT_LAYER";
}

/** A program the layer code runs (zstd, mknod, setfattr, getfattr) is not installed. */
export class MissingToolError extends Error {
  override readonly name = "MissingToolError";
  readonly code = "MISSING_TOOL";
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    readonly purpose: string,
  ) {
    super(`${tool} is needed ${purpose}: install it with 'apt-get install ${debianPackage}'`);
  }
}
