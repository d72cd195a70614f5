/**
 * Why an archive cannot be loaded. Every error names the archive (or the member) and says what
 * is wrong with it, so the user knows whether to re-create, re-download or re-save it; `code`
 * lets the CLI branch without parsing messages.
 */
export class ArchiveError extends Error {
  override readonly name: string = "ArchiveError";
  readonly code: string = "ARCHIVE_INVALID";
}

/** The input is neither a tar (plain, gzip or zstd) nor an OCI layout directory. */
export class NotAnArchiveError extends ArchiveError {
  override readonly name = "NotAnArchiveError";
  override readonly code = "ARCHIVE_NOT_TAR";
  constructor(readonly archive: string) {
    super(
      `${archive} is not a tar archive (plain, gzip or zstd) nor an OCI layout directory: give the file \`save\` or \`skopeo copy\` wrote`,
    );
  }
}

/** The tar ends in the middle of a header or a member: an interrupted download or copy. */
export class TruncatedArchiveError extends ArchiveError {
  override readonly name = "TruncatedArchiveError";
  override readonly code = "ARCHIVE_TRUNCATED";
  constructor(
    readonly archive: string,
    readonly member: string | undefined,
  ) {
    super(
      `${archive} is truncated${member ? ` (it ends inside ${JSON.stringify(member)})` : ""}: copy or save it again`,
    );
  }
}

/** Neither manifest.json (docker-archive) nor index.json (OCI layout) is there. */
export class UnknownArchiveFormatError extends ArchiveError {
  override readonly name = "UnknownArchiveFormatError";
  override readonly code = "ARCHIVE_NO_MANIFEST";
  constructor(readonly archive: string) {
    super(
      `${archive} has neither manifest.json (a docker-archive) nor index.json (an OCI image layout): it does not hold images`,
    );
  }
}

/** A member name or link target that points outside the archive ("../x"). */
export class UnsafeMemberError extends ArchiveError {
  override readonly name = "UnsafeMemberError";
  override readonly code = "ARCHIVE_UNSAFE_PATH";
  constructor(
    readonly archive: string,
    readonly member: string,
    reason: string,
  ) {
    super(`refusing ${archive}: ${JSON.stringify(member)} ${reason}; the archive may be hostile`);
  }
}

/** manifest.json or index.json names a file the archive does not have. */
export class MissingMemberError extends ArchiveError {
  override readonly name = "MissingMemberError";
  override readonly code = "ARCHIVE_MISSING_MEMBER";
  constructor(
    readonly archive: string,
    readonly member: string,
    referrer: string,
  ) {
    super(`${archive} has no ${JSON.stringify(member)}, which ${referrer} names: the archive is incomplete`);
  }
}

/** A blob whose bytes do not hash to the digest it is stored or named under. */
export class ArchiveDigestMismatchError extends ArchiveError {
  override readonly name = "ArchiveDigestMismatchError";
  override readonly code = "ARCHIVE_DIGEST_MISMATCH";
  constructor(
    readonly archive: string,
    readonly member: string,
    readonly expected: string,
    readonly actual: string | undefined,
    what: "digest" | "diff_id" = "digest",
  ) {
    super(
      `${JSON.stringify(member)} in ${archive} does not match its ${what} ${expected}${
        actual ? ` (its content hashes to ${actual})` : ""
      }: the archive is corrupt or was modified`,
    );
  }
}
