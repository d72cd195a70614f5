import { Digest, digestOf } from "./digest.js";
import { InvalidManifestError, InvalidPlatformError } from "./errors.js";
import { isValidMediaType } from "./media-types.js";
import { type Platform, validatePlatformObject } from "./platform.js";

export type { Platform } from "./platform.js";

/** The OCI content descriptor: what a manifest says about each blob or child manifest it points to. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  /** The content itself, base64; when present it must hash to `digest` and have `size` bytes. */
  data?: string;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks an annotations map: an object whose values are all strings. */
export function validateAnnotations(value: unknown, where: string): Record<string, string> {
  if (!isPlainObject(value))
    throw new InvalidManifestError(`${where}: must be an object of strings`, { where });
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw new InvalidManifestError(`${where}.${key}: annotation values must be strings`, { where });
    }
  }
  return { ...(value as Record<string, string>) };
}

/**
 * Checks a descriptor read from JSON and returns a copy holding only the fields the spec defines.
 * `where` names the descriptor in error messages ("layers[2]").
 */
export function validateDescriptor(d: unknown, where: string): Descriptor {
  const fail = (field: string, reason: string): never => {
    throw new InvalidManifestError(`${where}${field ? `.${field}` : ""}: ${reason}`, { where, field });
  };
  if (!isPlainObject(d)) return fail("", "descriptor must be an object");
  if (typeof d.mediaType !== "string" || !isValidMediaType(d.mediaType)) {
    fail("mediaType", d.mediaType === undefined ? "missing media type" : "invalid media type");
  }
  if (typeof d.digest !== "string" || !Digest.isValid(d.digest)) {
    fail("digest", d.digest === undefined ? "missing digest" : "invalid digest");
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    fail("size", d.size === undefined ? "missing size" : "size must be a non-negative integer");
  }
  const out: Descriptor = {
    mediaType: d.mediaType as string,
    digest: d.digest as string,
    size: d.size as number,
  };

  if (d.urls !== undefined) {
    if (!Array.isArray(d.urls) || !d.urls.every((u) => typeof u === "string" && URL.canParse(u))) {
      fail("urls", "must be an array of URLs");
    }
    out.urls = [...(d.urls as string[])];
  }
  if (d.annotations !== undefined)
    out.annotations = validateAnnotations(d.annotations, `${where}.annotations`);
  if (d.platform !== undefined) {
    try {
      out.platform = validatePlatformObject(d.platform, `${where}.platform`);
    } catch (err) {
      if (err instanceof InvalidPlatformError) fail("platform", err.reason);
      throw err;
    }
  }
  if (d.artifactType !== undefined) {
    if (typeof d.artifactType !== "string" || !isValidMediaType(d.artifactType)) {
      fail("artifactType", "invalid media type");
    }
    out.artifactType = d.artifactType as string;
  }
  if (d.data !== undefined) {
    if (typeof d.data !== "string" || !BASE64_RE.test(d.data)) fail("data", "must be base64");
    const bytes = Buffer.from(d.data as string, "base64");
    if (bytes.length !== out.size) fail("data", `holds ${bytes.length} bytes but size is ${out.size}`);
    const digest = Digest.parse(out.digest);
    if (!digestOf(bytes, digest.algorithm).equals(digest)) fail("data", "does not match digest");
    out.data = d.data as string;
  }
  return out;
}
