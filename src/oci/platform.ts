import type { Descriptor } from "./descriptor.js";
import { InvalidPlatformError } from "./errors.js";
import type { ImageIndex } from "./manifest.js";

/** The platform object of the OCI image index. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

// containerd's platform specifier component: what may appear between the slashes.
const COMPONENT_RE = /^[a-z0-9_.-]+$/;

/** Parses "os/arch[/variant]", e.g. "linux/arm64/v8"; components are lowercased, not normalised. */
export function parsePlatform(s: string): Platform {
  if (typeof s !== "string" || s === "") throw new InvalidPlatformError(String(s), "empty platform");
  const parts = s.toLowerCase().split("/");
  if (parts.length < 2) throw new InvalidPlatformError(s, "expected os/architecture[/variant]");
  if (parts.length > 3)
    throw new InvalidPlatformError(s, "too many components: expected os/architecture[/variant]");
  for (const part of parts) {
    if (!COMPONENT_RE.test(part)) {
      throw new InvalidPlatformError(
        s,
        `component ${JSON.stringify(part)} must be letters, digits, '_', '.' or '-'`,
      );
    }
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * Canonical spelling of a platform, following containerd's platforms.Normalize: the names other
 * tools use (uname's x86_64, Debian's armhf) become Go's GOOS/GOARCH, and a variant that is the
 * architecture's default is made explicit for 32-bit arm (v7) and dropped for arm64 (v8) and amd64 (v1).
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? "";
  switch (architecture) {
    case "i386":
      architecture = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = "";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (variant === "5" || variant === "6" || variant === "8") variant = `v${variant}`;
      break;
  }
  const out: Platform = { os, architecture };
  if (variant !== "") out.variant = variant;
  if (p["os.version"] !== undefined) out["os.version"] = p["os.version"];
  if (p["os.features"] !== undefined) out["os.features"] = [...p["os.features"]];
  return out;
}

/**
 * Whether an image built for `have` satisfies a request for `want`. A variant in `want` must match;
 * without one any variant of the architecture will do, except 32-bit arm, where no variant means v7.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  const variantWanted = (want.variant !== undefined && want.variant !== "") || w.architecture === "arm";
  return !variantWanted || w.variant === h.variant;
}

/** The descriptor in `index` that best serves `want`: an exact variant first, then any match, in index order. */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  const wanted = normalizePlatform(want);
  let fallback: Descriptor | undefined;
  for (const descriptor of index.manifests) {
    const platform = descriptor.platform;
    if (!platform || !platformMatches(want, platform)) continue;
    if (normalizePlatform(platform).variant === wanted.variant) return descriptor;
    fallback ??= descriptor;
  }
  return fallback;
}

const OS_BY_NODE_PLATFORM: Readonly<Record<string, string>> = { win32: "windows", sunos: "solaris" };
const ARCH_BY_NODE_ARCH: Readonly<Record<string, string>> = {
  x64: "amd64",
  ia32: "386",
  ppc64: isLittleEndian() ? "ppc64le" : "ppc64",
  mipsel: "mipsle",
  mips64el: "mips64le",
};

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** The platform this process runs on, in OCI (Go) names. */
export function hostPlatform(): Platform {
  const os = OS_BY_NODE_PLATFORM[process.platform] ?? process.platform;
  const architecture = ARCH_BY_NODE_ARCH[process.arch] ?? process.arch;
  if (architecture === "arm") {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    return { os, architecture, variant: `v${typeof armVersion === "string" ? armVersion : "7"}` };
  }
  return { os, architecture };
}

/** Checks the shape of a platform object read from JSON; `where` names it in the error. */
export function validatePlatformObject(value: unknown, where: string): Platform {
  const fail = (reason: string): never => {
    throw new InvalidPlatformError(where, reason);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("must be an object");
  const p = value as Record<string, unknown>;
  if (typeof p.os !== "string" || p.os === "") fail("os must be a non-empty string");
  if (typeof p.architecture !== "string" || p.architecture === "")
    fail("architecture must be a non-empty string");
  const out: Platform = { os: p.os as string, architecture: p.architecture as string };
  if (p.variant !== undefined) {
    if (typeof p.variant !== "string") fail("variant must be a string");
    if (p.variant !== "") out.variant = p.variant as string;
  }
  if (p["os.version"] !== undefined) {
    if (typeof p["os.version"] !== "string") fail("os.version must be a string");
    out["os.version"] = p["os.version"] as string;
  }
  if (p["os.features"] !== undefined) {
    const features = p["os.features"];
    if (!Array.isArray(features) || !features.every((f) => typeof f === "string")) {
      fail("os.features must be an array of strings");
    }
    out["os.features"] = [...(features as string[])];
  }
  return out;
}
