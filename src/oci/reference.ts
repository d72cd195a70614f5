import { Digest } from "./digest.js";
import { InvalidNameError, InvalidReferenceError, InvalidTagError } from "./errors.js";

/**
 * Image references, parsed and normalised the way Docker does it (distribution's `reference`
 * package: ParseNormalizedNamed followed by TagNameOnly), so "alpine" here means what it means
 * to `docker pull`.
 */

export const DEFAULT_REGISTRY = "docker.io";
/** Docker Hub's historical name, which Docker rewrites to docker.io. */
const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
const OFFICIAL_REPOSITORY_PREFIX = "library/";
const DEFAULT_TAG = "latest";
const NAME_TOTAL_LENGTH_MAX = 255;

export interface Reference {
  /** Host, optionally with a port; case is preserved. */
  readonly registry: string;
  /** The path on the registry, always lowercase, e.g. "library/alpine". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

// The grammar from distribution's reference/regexp.go, built from the same named pieces.
const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_NAME_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;
// Only the bracketed hex-and-colon form: no zones ("%eth0"), no embedded IPv4.
const IPV6_ADDRESS = "\\[[a-fA-F0-9:]+\\]";
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const REFERENCE_RE = new RegExp(`^((?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const REPOSITORY_NAME_RE = new RegExp(`^${REMOTE_NAME}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
// Docker refuses names that could be mistaken for an image ID.
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

export function parseReference(input: string): Reference {
  if (typeof input !== "string") throw new InvalidReferenceError(String(input), "not a string");
  if (input === "")
    throw new InvalidReferenceError(input, "repository name must have at least one component");
  if (IMAGE_ID_RE.test(input)) {
    throw new InvalidReferenceError(
      input,
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
    );
  }

  const [registry, remainder] = splitRegistry(input);
  // Docker checks case on the path up to the first ':' before anything else, so that
  // "Alpine" gets the helpful message rather than a bare format error.
  const colon = remainder.indexOf(":");
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(input, "repository name must be lowercase");
  }

  // A first component that looks like a host but is not one ("foo_bar.com") would otherwise be
  // read back as part of the path; Docker keeps it as a nameless domain, we refuse it outright.
  if (!DOMAIN_RE.test(registry))
    throw new InvalidReferenceError(input, `invalid registry host ${JSON.stringify(registry)}`);
  const full = `${registry}/${remainder}`;
  const match = REFERENCE_RE.exec(full);
  if (!match) {
    if (REFERENCE_RE.test(full.toLowerCase())) {
      throw new InvalidReferenceError(input, "repository name must be lowercase");
    }
    throw new InvalidReferenceError(input);
  }
  const name = match[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(
      input,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }

  let digest: Digest | undefined;
  if (match[3] !== undefined) {
    try {
      digest = Digest.parse(match[3]);
    } catch (err) {
      throw new InvalidReferenceError(input, (err as Error).message);
    }
  }
  const tag = match[2] ?? (digest === undefined ? DEFAULT_TAG : undefined);
  return makeReference(registry, name.slice(registry.length + 1), tag, digest);
}

/**
 * Splits off the registry the way Docker decides it: the first path component names a host
 * only if it looks like one (has a "." or ":", is "localhost", or has uppercase letters, which a
 * repository path never may); otherwise the whole input is a Docker Hub path.
 */
function splitRegistry(input: string): [registry: string, remainder: string] {
  const slash = input.indexOf("/");
  if (slash < 0) return [DEFAULT_REGISTRY, OFFICIAL_REPOSITORY_PREFIX + input];
  const first = input.slice(0, slash);
  const rest = input.slice(slash + 1);
  let registry: string;
  let remainder: string;
  if (first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first) {
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    remainder = rest;
  } else {
    registry = DEFAULT_REGISTRY;
    remainder = input;
  }
  if (registry === DEFAULT_REGISTRY && !remainder.includes("/")) {
    remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
  }
  return [registry, remainder];
}

function makeReference(registry: string, repository: string, tag?: string, digest?: Digest): Reference {
  const ref: { registry: string; repository: string; tag?: string; digest?: Digest } = {
    registry,
    repository,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function suffix(ref: Reference): string {
  return `${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** The canonical form: "docker.io/library/alpine:latest", "localhost:5000/a/b@sha256:...". */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${suffix(ref)}`;
}

/** The short name Docker shows: "alpine", "foo/bar", other registries unchanged. */
export function familiarName(ref: Reference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return `${ref.registry}/${ref.repository}`;
  if (ref.repository.startsWith(OFFICIAL_REPOSITORY_PREFIX)) {
    const rest = ref.repository.slice(OFFICIAL_REPOSITORY_PREFIX.length);
    // "library/a/b" keeps its prefix: dropping it would make "a/b", a different repository.
    if (!rest.includes("/")) return rest;
  }
  return ref.repository;
}

export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

/** The repository-name grammar of the distribution spec, as a registry checks it (no host). */
export function isValidRepositoryName(name: string): boolean {
  return typeof name === "string" && name.length <= NAME_TOTAL_LENGTH_MAX && REPOSITORY_NAME_RE.test(name);
}

export function validateRepositoryName(name: string): string {
  if (typeof name !== "string" || name === "") {
    throw new InvalidNameError(String(name), "repository name must have at least one component");
  }
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidNameError(
      name,
      `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  if (!REPOSITORY_NAME_RE.test(name)) {
    throw new InvalidNameError(
      name,
      name.toLowerCase() !== name && REPOSITORY_NAME_RE.test(name.toLowerCase())
        ? "repository name must be lowercase"
        : "path components are lowercase letters and digits, separated by '.', '_', '__' or dashes",
    );
  }
  return name;
}

/** True for a host[:port] Docker accepts as a registry ("localhost:5000", "[::1]:5000"). */
export function isValidRegistry(registry: string): boolean {
  return typeof registry === "string" && DOMAIN_RE.test(registry);
}

export function isValidTag(tag: string): boolean {
  return typeof tag === "string" && TAG_RE.test(tag);
}

export function validateTag(tag: string): string {
  if (!isValidTag(tag)) throw new InvalidTagError(String(tag));
  return tag;
}

/** The same repository with `tag`; a digest, if any, is kept, as Docker's WithTag does. */
export function withTag(ref: Reference, tag: string): Reference {
  return makeReference(ref.registry, ref.repository, validateTag(tag), ref.digest);
}

/** The same repository pinned to `digest`; a tag, if any, is kept. */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return makeReference(ref.registry, ref.repository, ref.tag, digest);
}

/** The same repository with neither tag nor digest. */
export function nameOnly(ref: Reference): Reference {
  return makeReference(ref.registry, ref.repository);
}
