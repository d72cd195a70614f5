import { BerthError } from "../errors.js";
/**
 * The errors the OCI model throws. Each carries a stable `code` so callers (the registry's error
 * table, the CLI) can branch without parsing messages; the codes of the first five are the
 * distribution-spec error codes they map to.
 */

export class InvalidDigestError extends BerthError {
  override readonly name = "InvalidDigestError";
  override readonly code = "DIGEST_INVALID";

  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid digest ${JSON.stringify(input)}: ${reason}`);
  }
}

/** Worded like Docker's own errors ("invalid reference format: ..."), which users already know. */
export class InvalidReferenceError extends BerthError {
  override readonly name = "InvalidReferenceError";
  override readonly code = "INVALID_REFERENCE";

  constructor(
    readonly input: string,
    reason?: string,
  ) {
    super(reason ? `invalid reference format: ${reason}` : "invalid reference format");
  }
}

export class InvalidNameError extends BerthError {
  override readonly name = "InvalidNameError";
  override readonly code = "NAME_INVALID";

  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid repository name ${JSON.stringify(input)}: ${reason}`);
  }
}

export class InvalidTagError extends BerthError {
  override readonly name = "InvalidTagError";
  override readonly code = "TAG_INVALID";

  constructor(
    readonly input: string,
    reason = "a tag is 1 to 128 characters of [A-Za-z0-9_.-] and may not start with '.' or '-'",
  ) {
    super(`invalid tag ${JSON.stringify(input)}: ${reason}`);
  }
}

export class InvalidManifestError extends BerthError {
  override readonly name = "InvalidManifestError";
  override readonly code = "MANIFEST_INVALID";

  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

export class InvalidPlatformError extends BerthError {
  override readonly name = "InvalidPlatformError";
  override readonly code = "PLATFORM_INVALID";

  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid platform ${JSON.stringify(input)}: ${reason}`);
  }
}
