import { BerthError } from "../errors.js";

/**
 * What the registry's services and metadata stores throw: domain errors that know nothing of
 * HTTP. The server turns them into the spec's codes in one place (error-map.ts), as
 * distribution's handlers turn its storage errors into errcode values.
 */
export abstract class RegistryDomainError extends BerthError {}

export class BlobUnknownError extends RegistryDomainError {
  override readonly name = "BlobUnknownError";
  override readonly code = "BLOB_UNKNOWN";
  constructor(readonly digest: string) {
    super(`blob unknown to registry: ${digest}`);
  }
}

export class ManifestUnknownError extends RegistryDomainError {
  override readonly name = "ManifestUnknownError";
  override readonly code = "MANIFEST_UNKNOWN";
  constructor(
    readonly repository: string,
    readonly reference: string,
  ) {
    super(`manifest unknown: ${repository}:${reference}`);
  }
}

/** A manifest names a blob (or an index a child manifest) that is not in its repository. */
export class ManifestBlobUnknownError extends RegistryDomainError {
  override readonly name = "ManifestBlobUnknownError";
  override readonly code = "MANIFEST_BLOB_UNKNOWN";
  constructor(
    readonly digest: string,
    readonly what: "blob" | "manifest",
  ) {
    super(
      `manifest references ${what === "manifest" ? "a manifest" : "a blob"} unknown to this repository: ${digest}`,
    );
  }
}

export class ManifestInvalidError extends RegistryDomainError {
  override readonly name = "ManifestInvalidError";
  override readonly code = "MANIFEST_INVALID";
}

/** Content that does not hash to the digest it was given under. */
export class DigestInvalidError extends RegistryDomainError {
  override readonly name = "DigestInvalidError";
  override readonly code = "DIGEST_INVALID";
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message);
  }
}

export class UploadUnknownError extends RegistryDomainError {
  override readonly name = "UploadUnknownError";
  override readonly code = "BLOB_UPLOAD_UNKNOWN";
  constructor(readonly uuid: string) {
    super("blob upload unknown to registry");
  }
}

/** Another request (on this replica or another) is writing to the same upload. */
export class UploadBusyError extends RegistryDomainError {
  override readonly name = "UploadBusyError";
  override readonly code = "BLOB_UPLOAD_INVALID";
  constructor(readonly uuid: string) {
    super("another request is writing to this upload");
  }
}

/** A chunk that does not continue an upload where it stands. */
export class UploadRangeError extends RegistryDomainError {
  override readonly name = "UploadRangeError";
  override readonly code = "RANGE_INVALID";
  constructor(
    readonly repository: string,
    readonly uuid: string,
    /** Bytes the upload holds now: the client resumes from here. */
    readonly size: number,
    readonly range: string,
  ) {
    super("content range does not continue the upload");
  }
}

export class UploadSizeError extends RegistryDomainError {
  override readonly name = "UploadSizeError";
  override readonly code = "SIZE_INVALID";
}

/** The request body ended before it was complete. */
export class BodyIncompleteError extends RegistryDomainError {
  override readonly name = "BodyIncompleteError";
  override readonly code = "BODY_INCOMPLETE";
  constructor() {
    super("the request body ended early");
  }
}

/**
 * Object storage or the metadata database cannot be reached. Nothing was written half-way; the
 * client may retry, and the replica recovers by itself when the backend returns.
 */
export class BackendUnavailableError extends RegistryDomainError {
  override readonly name = "BackendUnavailableError";
  override readonly code = "BACKEND_UNAVAILABLE";
  constructor(
    readonly backend: "storage" | "metadata",
    readonly reason: string,
  ) {
    super(`${backend} unavailable: ${reason}`);
  }
}

/** Another garbage collection holds the registry's GC lock. */
export class GcLockedError extends RegistryDomainError {
  override readonly name = "GcLockedError";
  override readonly code = "GC_LOCKED";
}
