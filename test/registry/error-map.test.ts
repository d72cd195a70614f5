import assert from "node:assert/strict";
import { test } from "node:test";
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
} from "../../src/registry/domain-errors.js";
import { toRegistryError } from "../../src/registry/error-map.js";
import { RegistryError } from "../../src/registry/errors.js";

const D = `sha256:${"a".repeat(64)}`;

// Statuses from distribution's registry/api/errcode/register.go and the OCI distribution spec.
const cases: [string, unknown, string, number][] = [
  ["blob unknown", new BlobUnknownError(D), "BLOB_UNKNOWN", 404],
  ["manifest unknown", new ManifestUnknownError("r", "v1"), "MANIFEST_UNKNOWN", 404],
  ["manifest blob unknown", new ManifestBlobUnknownError(D, "blob"), "MANIFEST_BLOB_UNKNOWN", 400],
  ["manifest invalid", new ManifestInvalidError("bad"), "MANIFEST_INVALID", 400],
  ["digest mismatch", new DigestInvalidError("no", D, D), "DIGEST_INVALID", 400],
  ["upload unknown", new UploadUnknownError("u"), "BLOB_UPLOAD_UNKNOWN", 404],
  ["upload busy", new UploadBusyError("u"), "BLOB_UPLOAD_INVALID", 400],
  ["range", new UploadRangeError("r", "u", 5, "9-10"), "RANGE_INVALID", 416],
  ["size", new UploadSizeError("short"), "SIZE_INVALID", 400],
  ["body cut", new BodyIncompleteError(), "BLOB_UPLOAD_INVALID", 400],
  ["backend down", new BackendUnavailableError("metadata", "ECONNREFUSED"), "UNAVAILABLE", 503],
  ["a bug", new TypeError("x is undefined"), "UNKNOWN", 500],
  [
    "a socket error no driver translated",
    errno("connect ECONNREFUSED 127.0.0.1:7480", "ECONNREFUSED"),
    "UNAVAILABLE",
    503,
  ],
  ["a timeout no driver translated", errno("connect ETIMEDOUT", "ETIMEDOUT"), "UNAVAILABLE", 503],
];

function errno(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

for (const [what, err, code, status] of cases) {
  test(`error map: ${what} -> ${status} ${code}`, () => {
    const mapped = toRegistryError(err);
    assert.ok(mapped instanceof RegistryError);
    assert.equal(mapped.code, code);
    assert.equal(mapped.status, status);
    assert.equal(mapped.toBody().errors[0]!.code, code);
  });
}

test("error map: a range error carries the upload's Location and Range, an outage Retry-After", () => {
  const range = toRegistryError(new UploadRangeError("team/app", "u-1", 5, "9-10"));
  assert.equal(range.headers.Location, "/v2/team/app/blobs/uploads/u-1");
  assert.equal(range.headers.Range, "0-4");
  assert.equal(toRegistryError(new BackendUnavailableError("storage", "down")).headers["Retry-After"], "1");
});

test("error map: an unexpected error's message stays out of the answer; an unreachable backend is retried", () => {
  const bug = toRegistryError(new Error("EEXIST: file already exists, mkdir '/srv/registry/blobs/sha256'"));
  assert.equal(bug.message, "unknown error");
  assert.doesNotMatch(JSON.stringify(bug.toBody()), /srv|EEXIST/);
  const refused = toRegistryError(errno("connect ECONNREFUSED 10.0.0.5:7480", "ECONNREFUSED"));
  assert.equal(refused.headers["Retry-After"], "1");
  assert.doesNotMatch(JSON.stringify(refused.toBody()), /10\.0\.0\.5/);
});

test("error map: a RegistryError from a handler passes through unchanged", () => {
  const err = new RegistryError("DENIED", "no");
  assert.equal(toRegistryError(err), err);
});
