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
    reason: string,
  ) {
    super(`refusing layer entry ${JSON.stringify(entry)}: ${reason}`);
  }
}
