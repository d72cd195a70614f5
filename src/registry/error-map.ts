import { StorageUnavailableError } from "../storage/driver.js";
import {
  BackendUnavailableError,
  BlobUnknownError,
  BodyIncompleteError,
  DigestInvalidError,
  ManifestBlobUnknownError,
  ManifestInvalidError,
  ManifestUnknownError,
  UploadBusyError,
  UploadRangeError,
  UploadSizeError,
  UploadUnknownError,
} from "./domain-errors.js";
import { RegistryError } from "./errors.js";
import { uploadHeaders } from "./upload-headers.js";

/**
 * The one place where what went wrong becomes what the client is told: domain errors from the
 * services map to the distribution spec's codes and statuses; anything unexpected is a 500.
 */
export function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof ManifestUnknownError) {
    return new RegistryError("MANIFEST_UNKNOWN", err.message, {
      name: err.repository,
      reference: err.reference,
    });
  }
  if (err instanceof BlobUnknownError)
    return new RegistryError("BLOB_UNKNOWN", undefined, { digest: err.digest });
  if (err instanceof ManifestBlobUnknownError) {
    // distribution answers 400 (errcode.ErrorCodeManifestBlobUnknown), not the 404 of BLOB_UNKNOWN.
    return new RegistryError("MANIFEST_BLOB_UNKNOWN", err.message, { digest: err.digest });
  }
  if (err instanceof ManifestInvalidError) return new RegistryError("MANIFEST_INVALID", err.message);
  if (err instanceof DigestInvalidError) {
    return new RegistryError("DIGEST_INVALID", err.message, { expected: err.expected, actual: err.actual });
  }
  if (err instanceof UploadUnknownError) {
    return new RegistryError("BLOB_UPLOAD_UNKNOWN", err.message, { uuid: err.uuid });
  }
  if (err instanceof UploadBusyError) {
    return new RegistryError("BLOB_UPLOAD_INVALID", err.message, { uuid: err.uuid });
  }
  if (err instanceof UploadRangeError) {
    return new RegistryError("RANGE_INVALID", err.message, { size: err.size, range: err.range }).withHeaders(
      uploadHeaders(err.repository, err.uuid, err.size),
    );
  }
  if (err instanceof UploadSizeError) return new RegistryError("SIZE_INVALID", err.message);
  if (err instanceof BodyIncompleteError) return new RegistryError("BLOB_UPLOAD_INVALID", err.message);
  if (err instanceof BackendUnavailableError) {
    return new RegistryError("UNAVAILABLE", err.message, { backend: err.backend }).withHeaders({
      "Retry-After": "1",
    });
  }
  if (err instanceof StorageUnavailableError) {
    return new RegistryError("UNAVAILABLE", err.message, { backend: "storage" }).withHeaders({
      "Retry-After": "1",
    });
  }
  const code = (err as { code?: string }).code;
  if (
    code === "ECONNRESET" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    (err as Error).message === "aborted"
  ) {
    return new RegistryError("BLOB_UPLOAD_INVALID", "the request body ended early", undefined, 400);
  }
  // A backend that cannot be reached, whatever layer let the socket error through untranslated.
  if (UNREACHABLE.has(code ?? "") || (err as Error).name === "TimeoutError") {
    return new RegistryError("UNAVAILABLE", `backend unreachable: ${code ?? (err as Error).name}`, {
      backend: "unknown",
    }).withHeaders({ "Retry-After": "1" });
  }
  // A bug: its message (paths, hosts, internals) is for the log, never for the client (the
  // server logs it with a request id and sends the id).
  return new RegistryError("UNKNOWN");
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);
