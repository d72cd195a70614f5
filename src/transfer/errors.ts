import { BerthError } from "../errors.js";
import { formatPlatform, type Platform } from "../oci/platform.js";

/** An index has no image for the platform asked for (Docker's words, then what there is). */
export class PlatformNotFoundError extends BerthError {
  override readonly name = "PlatformNotFoundError";
  override readonly code = "PLATFORM_NOT_FOUND";
  constructor(
    readonly wanted: Platform,
    readonly available: Platform[],
  ) {
    super(
      `no matching manifest for ${formatPlatform(wanted)} in the manifest list entries; available: ${
        available.map(formatPlatform).join(", ") || "none"
      }`,
    );
  }
}

/** A single-platform image was asked for with --platform, and it is for another one. */
export class PlatformMismatchError extends BerthError {
  override readonly name = "PlatformMismatchError";
  override readonly code = "PLATFORM_MISMATCH";
  constructor(reference: string, wanted: Platform, actual: Platform) {
    super(
      `image with reference ${reference} was found but does not match the specified platform: wanted ${formatPlatform(
        wanted,
      )}, actual: ${formatPlatform(actual)}`,
    );
  }
}

/** Content that is not what its descriptor says: another digest, another size, or too big to be a config. */
export class ContentMismatchError extends BerthError {
  override readonly name = "ContentMismatchError";
  override readonly code = "CONTENT_MISMATCH";
}

/** An image whose parts do not fit together (a config listing other layers than the manifest). */
export class InvalidImageError extends BerthError {
  override readonly name = "InvalidImageError";
  override readonly code = "INVALID_IMAGE";
}

/** A blob failed on its way: the message names it, then says what went wrong. */
export class BlobTransferError extends BerthError {
  override readonly name = "BlobTransferError";
  override readonly code: string;
  constructor(
    readonly role: "config" | "layer",
    readonly digest: string,
    cause: BerthError,
  ) {
    // A cause that names the blob already ("upload of blob sha256:…") says what it is instead.
    const what = `${role === "config" ? "image config" : "layer"} ${digest}`;
    super(
      cause.message.includes(`blob ${digest}`)
        ? cause.message.replace(`blob ${digest}`, what)
        : `${what}: ${cause.message}`,
      { cause },
    );
    this.code = cause.code;
  }
}
