/** An archive that cannot be loaded: not a tar, no manifest.json or index.json, a missing member… */
export class ArchiveError extends Error {
  override readonly name = "ArchiveError";
  readonly code = "ARCHIVE_INVALID";
}
