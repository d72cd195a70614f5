import { BerthError } from "../errors.js";

/** A version string that its ecosystem's grammar does not accept: never compared, never matched. */
export class VersionParseError extends BerthError {
  override readonly name = "VersionParseError";
  override readonly code = "VERSION_INVALID";
  constructor(
    readonly ecosystem: string,
    readonly version: string,
  ) {
    super(`"${version}" is not a ${ecosystem} version`);
  }
}

/** A scan that cannot be done: the image's layers cannot be read, its config is not an image's. */
export class ScanError extends BerthError {
  override readonly name = "ScanError";
  override readonly code = "SCAN_FAILED";
}

/** The vulnerability database is missing, or a feed could not be read into it. */
export class VulnDbError extends BerthError {
  override readonly name = "VulnDbError";
  override readonly code = "VULNDB";
}
