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
 * The platforms whose images run where `want` does, best first, as Docker chooses them
 * (containerd's platforms.Only, which moby's pull uses): the platform itself, then older
 * variants of its architecture (amd64/v3 → v2 → v1, arm/v7 → v6 → v5), 386 under amd64, and
 * 32-bit arm under arm64. Each is normalised, so arm64 and arm64/v8 are one platform.
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const out: Platform[] = [p];
  const version = (prefix: string) => {
    const n = Number((p.variant ?? "").replace(/^v/, ""));
    return Number.isInteger(n) && (p.variant ?? "").startsWith(prefix) ? n : Number.NaN;
  };
  const variantOf = (architecture: string, variant: string): Platform =>
    normalizePlatform({ os: p.os, architecture, variant });
  switch (p.architecture) {
    case "amd64": {
      for (let v = version("v") - 1; v >= 1; v--) out.push(variantOf("amd64", `v${v}`));
      out.push({ os: p.os, architecture: "386" });
      break;
    }
    case "arm":
      for (let v = version("v") - 1; v >= 5; v--) out.push(variantOf("arm", `v${v}`));
      break;
    case "arm64":
      out.push(...compatiblePlatforms({ os: p.os, architecture: "arm", variant: p.variant ?? "v8" }));
      break;
  }
  return out;
}

/** How well an image for `have` serves `want`: 0 is exact, higher is a fallback, -1 is unusable. */
export function platformRank(want: Platform, have: Platform): number {
  const h = normalizePlatform(have);
  return compatiblePlatforms(want).findIndex(
    (c) => c.os === h.os && c.architecture === h.architecture && (c.variant ?? "") === (h.variant ?? ""),
  );
}

/** Whether an image built for `have` runs where `want` does (Docker's rule: compatiblePlatforms). */
export function platformMatches(want: Platform, have: Platform): boolean {
  return platformRank(want, have) >= 0;
}

/** The descriptor in `index` that best serves `want`: the best rank, then index order. */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const descriptor of index.manifests) {
    if (!descriptor.platform) continue;
    const rank = platformRank(want, descriptor.platform);
    if (rank >= 0 && rank < bestRank) {
      best = descriptor;
      bestRank = rank;
    }
  }
  return best;
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
