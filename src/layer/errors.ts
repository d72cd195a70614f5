import { BerthError } from "../errors.js";
/** The uncompressed layer does not hash to the diff_id the image config names. */
export class DiffIdMismatchError extends BerthError {
  override readonly name = "DiffIdMismatchError";
  override readonly code = "DIFF_ID_MISMATCH";
  constructor(
    readonly expected: string,
    readonly actual: string,
    /** The compressed blob that gave it, when known. */
    readonly blob?: string,
  ) {
    super(`layer ${blob ? `${blob} ` : ""}diff_id mismatch: expected ${expected}, got ${actual}`);
  }
}

/** A layer entry that would write outside the layer directory, or through a link. */
export class UnsafeLayerError extends BerthError {
  override readonly name = "UnsafeLayerError";
  override readonly code = "UNSAFE_LAYER";
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`refusing layer entry ${JSON.stringify(entry)}: ${reason}`);
  }
}

/** The layer is not a readable tar (bad checksum, cut off, an unsupported entry kind). */
export class CorruptLayerError extends BerthError {
  override readonly name = "CorruptLayerError";
  override readonly code = "CORRUPT_LAYER";
}

/** A program the layer code runs (zstd, mknod, setfattr, getfattr) is not installed. */
export class MissingToolError extends BerthError {
  override readonly name = "MissingToolError";
  override readonly code = "MISSING_TOOL";
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    readonly purpose: string,
  ) {
    super(`${tool} is needed ${purpose}: install it with 'apt-get install ${debianPackage}'`);
  }
}

/** A program the layer code runs failed (zstd, mknod, setfattr): its own words follow. */
export class LayerToolError extends BerthError {
  override readonly name = "LayerToolError";
  override readonly code = "LAYER_TOOL";
}

/** A file changed while it was being put into a layer. */
export class ChangedWhileReadError extends BerthError {
  override readonly name = "ChangedWhileReadError";
  override readonly code = "CHANGED_WHILE_READ";
}
