import { VersionParseError } from "../errors.js";

/**
 * Semantic Versioning 2.0.0 precedence (section 11), for npm and Go: major, minor and patch as
 * numbers; a pre-release sorts before its release, its dot-separated identifiers compared
 * numerically when both are numbers, numbers before strings, more identifiers winning; build
 * metadata ignored. A leading `v` (Go's module versions) or `=` (npm's loose form) is dropped.
 */
interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string[];
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function parseSemver(v: string, ecosystem = "semver"): SemVer {
  const m = SEMVER.exec(v.trim().replace(/^[v=]/, ""));
  if (!m) throw new VersionParseError(ecosystem, v);
  return {
    major: BigInt(m[1]!),
    minor: BigInt(m[2]!),
    patch: BigInt(m[3]!),
    pre: m[4] ? m[4].split(".") : [],
  };
}

function cmp<T extends bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifier(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return cmp(BigInt(a), BigInt(b));
  if (an) return -1;
  if (bn) return 1;
  return cmp(a, b);
}

export function compareSemver(a: string, b: string, ecosystem = "semver"): number {
  const x = parseSemver(a, ecosystem);
  const y = parseSemver(b, ecosystem);
  const c = cmp(x.major, y.major) || cmp(x.minor, y.minor) || cmp(x.patch, y.patch);
  if (c) return c;
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const d = compareIdentifier(x.pre[i]!, y.pre[i]!);
    if (d) return d;
  }
  return Math.sign(x.pre.length - y.pre.length);
}
