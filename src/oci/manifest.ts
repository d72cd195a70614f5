import { type Descriptor, validateAnnotations, validateDescriptor } from "./descriptor.js";
import { Digest } from "./digest.js";
import { InvalidManifestError } from "./errors.js";
import { baseMediaType, isSchema1MediaType, isValidMediaType, MediaTypes } from "./media-types.js";

export type { Descriptor } from "./descriptor.js";

/** An OCI image manifest or a Docker image manifest v2 (the same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or a Docker manifest list (the same shape). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime defaults an image carries (the OCI config's `config` object, Docker's field names). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * The OCI image configuration. `parseImageConfig` returns the whole JSON object, so fields this
 * type does not name (Docker's `container_config`, `docker_version`, ...) are still there.
 */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: HistoryEntry[];
}

interface ParsedCommon {
  /** The effective media type: the body's `mediaType`, else the Content-Type, else inferred. */
  mediaType: string;
  /**
   * What must already exist for this manifest to be accepted: config and layers for an image
   * (minus layers with `urls`, which live elsewhere), the child manifests for an index.
   */
  references: Descriptor[];
  subject?: Descriptor;
  /** As the referrers API reports it: `artifactType`, else (image manifests) the config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A parsed manifest or index: `kind` tells which, and narrows `value` (no casts needed). */
export type ParsedManifest =
  | (ParsedCommon & { kind: "manifest"; value: ImageManifest })
  | (ParsedCommon & { kind: "index"; value: ImageIndex });

export type ParsedImageManifest = Extract<ParsedManifest, { kind: "manifest" }>;
export type ParsedIndex = Extract<ParsedManifest, { kind: "index" }>;

/**
 * The descriptors a manifest points at, in the order a transfer visits them: an index's
 * manifests; an image's config, then its layers (foreign layers included: callers decide).
 */
export function children(parsed: ParsedManifest): Descriptor[] {
  return parsed.kind === "index"
    ? [...parsed.value.manifests]
    : [parsed.value.config, ...parsed.value.layers];
}

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJsonObject(bytes: Uint8Array, what: string): Json {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (err) {
    throw new InvalidManifestError(`${what} is not valid JSON`, (err as Error).message);
  }
  if (!isPlainObject(body)) throw new InvalidManifestError(`${what} must be a JSON object`);
  return body;
}

/**
 * Parses and validates manifest bytes as pushed to or pulled from a registry. `contentType` is
 * the Content-Type it came with, if any; the body's own `mediaType` must agree with it.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const body = parseJsonObject(bytes, "manifest");
  const bodyType = body.mediaType;
  if (bodyType !== undefined && (typeof bodyType !== "string" || !isValidMediaType(bodyType))) {
    throw new InvalidManifestError("mediaType: invalid media type", { mediaType: bodyType });
  }
  // Clients that send plain JSON have not told us anything, as distribution also reasons.
  let headerType = contentType === undefined ? "" : baseMediaType(contentType);
  if (headerType === "application/json") headerType = "";

  if (
    body.schemaVersion === 1 ||
    (bodyType !== undefined && isSchema1MediaType(bodyType)) ||
    (headerType !== "" && isSchema1MediaType(headerType))
  ) {
    throw new InvalidManifestError(
      "Docker schema1 manifests are not supported; convert the image to schema2 or OCI (e.g. re-push it with a current client)",
    );
  }
  if (body.schemaVersion !== 2) {
    throw new InvalidManifestError("schemaVersion must be 2", { schemaVersion: body.schemaVersion });
  }

  let mediaType: string;
  if (bodyType !== undefined) {
    if (headerType !== "" && headerType !== bodyType) {
      throw new InvalidManifestError(
        `if present, mediaType in manifest should be '${headerType}' not '${bodyType}'`,
        {
          contentType,
          mediaType: bodyType,
        },
      );
    }
    mediaType = bodyType;
  } else if (headerType !== "") {
    mediaType = headerType;
  } else if ("manifests" in body) {
    mediaType = MediaTypes.OCI_INDEX;
  } else if ("config" in body || "layers" in body) {
    mediaType = MediaTypes.OCI_MANIFEST;
  } else {
    throw new InvalidManifestError("cannot tell the manifest's type: no mediaType, config or manifests");
  }

  switch (mediaType) {
    case MediaTypes.OCI_MANIFEST:
    case MediaTypes.DOCKER_MANIFEST:
      return parseImageManifest(body, mediaType);
    case MediaTypes.OCI_INDEX:
    case MediaTypes.DOCKER_MANIFEST_LIST:
      return parseImageIndex(body, mediaType);
    default:
      throw new InvalidManifestError(`unsupported manifest media type ${JSON.stringify(mediaType)}`, {
        mediaType,
      });
  }
}

/** The fields image manifests and indexes share. */
function commonFields(body: Json): {
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
} {
  const out: { artifactType?: string; subject?: Descriptor; annotations?: Record<string, string> } = {};
  if (body.artifactType !== undefined) {
    if (typeof body.artifactType !== "string" || !isValidMediaType(body.artifactType)) {
      throw new InvalidManifestError("artifactType: invalid media type", { artifactType: body.artifactType });
    }
    out.artifactType = body.artifactType;
  }
  if (body.subject !== undefined) out.subject = validateDescriptor(body.subject, "subject");
  if (body.annotations !== undefined) out.annotations = validateAnnotations(body.annotations, "annotations");
  return out;
}

function descriptorArray(value: unknown, field: string): Descriptor[] {
  if (value === undefined) throw new InvalidManifestError(`${field}: missing`);
  if (!Array.isArray(value)) throw new InvalidManifestError(`${field}: must be an array`);
  return value.map((d, i) => validateDescriptor(d, `${field}[${i}]`));
}

function parseImageManifest(body: Json, mediaType: string): ParsedImageManifest {
  // A document that is both a manifest and an index could be read two ways by two clients
  // (CVE-2021-41190); the image-spec forbids it and so do we.
  if ("manifests" in body)
    throw new InvalidManifestError("an image manifest must not have a 'manifests' field");
  if (body.config === undefined) throw new InvalidManifestError("config: missing");
  const config = validateDescriptor(body.config, "config");
  const layers = descriptorArray(body.layers, "layers");
  const common = commonFields(body);

  // Field order follows the spec's examples, so re-serialising reads naturally.
  const value: ImageManifest = {
    schemaVersion: 2,
    ...(body.mediaType !== undefined ? { mediaType } : {}),
    ...(common.artifactType !== undefined ? { artifactType: common.artifactType } : {}),
    config,
    layers,
  };
  if (common.subject !== undefined) value.subject = common.subject;
  if (common.annotations !== undefined) value.annotations = common.annotations;

  const parsed: ParsedImageManifest = {
    mediaType,
    kind: "manifest",
    value,
    references: [config, ...layers.filter((l) => l.urls === undefined || l.urls.length === 0)],
    // distribution-spec, referrers: "If the artifactType is empty or missing in an image manifest,
    // the value of artifactType MUST be set to the config descriptor mediaType value."
    artifactType: common.artifactType ?? config.mediaType,
  };
  if (common.subject !== undefined) parsed.subject = common.subject;
  if (common.annotations !== undefined) parsed.annotations = common.annotations;
  return parsed;
}

function parseImageIndex(body: Json, mediaType: string): ParsedIndex {
  for (const field of ["config", "layers"]) {
    if (field in body) throw new InvalidManifestError(`an image index must not have a '${field}' field`);
  }
  const manifests = descriptorArray(body.manifests, "manifests");
  const common = commonFields(body);

  const value: ImageIndex = {
    schemaVersion: 2,
    ...(body.mediaType !== undefined ? { mediaType } : {}),
    ...(common.artifactType !== undefined ? { artifactType: common.artifactType } : {}),
    manifests,
  };
  if (common.subject !== undefined) value.subject = common.subject;
  if (common.annotations !== undefined) value.annotations = common.annotations;

  const parsed: ParsedIndex = { mediaType, kind: "index", value, references: [...manifests] };
  if (common.subject !== undefined) parsed.subject = common.subject;
  if (common.artifactType !== undefined) parsed.artifactType = common.artifactType;
  if (common.annotations !== undefined) parsed.annotations = common.annotations;
  return parsed;
}

/** Parses an image configuration blob, checking the fields that later code relies on. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const body = parseJsonObject(bytes, "image config");
  const fail = (field: string, reason: string): never => {
    throw new InvalidManifestError(`image config ${field}: ${reason}`, { field });
  };
  const optionalString = (obj: Json, field: string, prefix = ""): void => {
    if (obj[field] !== undefined && typeof obj[field] !== "string") fail(prefix + field, "must be a string");
  };
  const optionalStrings = (obj: Json, field: string, prefix = ""): void => {
    const v = obj[field];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((s) => typeof s === "string"))) {
      fail(prefix + field, "must be an array of strings");
    }
  };
  const optionalObject = (obj: Json, field: string, prefix = ""): void => {
    const v = obj[field];
    if (v !== undefined && v !== null && !isPlainObject(v)) fail(prefix + field, "must be an object");
  };

  if (typeof body.architecture !== "string" || body.architecture === "")
    fail("architecture", "must be a string");
  if (typeof body.os !== "string" || body.os === "") fail("os", "must be a string");
  for (const field of ["created", "author", "variant", "os.version"]) optionalString(body, field);
  optionalStrings(body, "os.features");

  const rootfs = body.rootfs;
  if (!isPlainObject(rootfs)) return fail("rootfs", "missing");
  if (rootfs.type !== "layers") fail("rootfs.type", 'must be "layers"');
  if (!Array.isArray(rootfs.diff_ids)) return fail("rootfs.diff_ids", "must be an array");
  rootfs.diff_ids.forEach((id, i) => {
    if (typeof id !== "string" || !Digest.isValid(id)) fail(`rootfs.diff_ids[${i}]`, "invalid digest");
  });

  if (body.config !== undefined && body.config !== null) {
    if (!isPlainObject(body.config)) fail("config", "must be an object");
    const config = body.config as Json;
    for (const field of ["User", "WorkingDir", "StopSignal"]) optionalString(config, field, "config.");
    for (const field of ["Env", "Entrypoint", "Cmd", "OnBuild", "Shell"])
      optionalStrings(config, field, "config.");
    for (const field of ["ExposedPorts", "Volumes", "Labels", "Healthcheck"])
      optionalObject(config, field, "config.");
    if (isPlainObject(config.Labels)) {
      for (const [key, v] of Object.entries(config.Labels)) {
        if (typeof v !== "string") fail(`config.Labels.${key}`, "must be a string");
      }
    }
  }

  if (body.history !== undefined) {
    if (!Array.isArray(body.history)) fail("history", "must be an array");
    for (const [i, entry] of (body.history as unknown[]).entries()) {
      const where = `history[${i}].`;
      if (!isPlainObject(entry)) return fail(`history[${i}]`, "must be an object");
      for (const field of ["created", "created_by", "author", "comment"]) optionalString(entry, field, where);
      if (entry.empty_layer !== undefined && typeof entry.empty_layer !== "boolean") {
        fail(`${where}empty_layer`, "must be a boolean");
      }
    }
  }
  return body as unknown as ImageConfig;
}
