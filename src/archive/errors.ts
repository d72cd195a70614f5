import { BerthError } from "../errors.js";
/** An archive that cannot be loaded: not a tar, no manifest.json or index.json, a missing member… */
export class ArchiveError extends BerthError {
  override readonly name = "ArchiveError";
  override readonly code = "ARCHIVE_INVALID";
}
