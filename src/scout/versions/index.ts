import { compareApk } from "./apk.js";
import { compareDebian } from "./debian.js";
import { compareMaven } from "./maven.js";
import { comparePep440 } from "./pep440.js";
import { compareSemver } from "./semver.js";

/** The version orders Berth knows, by the family of an OSV ecosystem name ("Debian:12" → Debian). */
export type VersionScheme = "Debian" | "Alpine" | "PyPI" | "npm" | "Go" | "Maven" | "semver";

export function schemeOf(ecosystem: string): VersionScheme | undefined {
  const family = ecosystem.split(":")[0]!;
  switch (family) {
    case "Debian":
    case "Ubuntu":
      return "Debian";
    case "Alpine":
      return "Alpine";
    case "PyPI":
    case "npm":
    case "Go":
    case "Maven":
      return family;
    default:
      return undefined;
  }
}

/** Compares two versions of one scheme (negative, zero, positive); throws VersionParseError. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): number {
  switch (scheme) {
    case "Debian":
      return compareDebian(a, b);
    case "Alpine":
      return compareApk(a, b);
    case "PyPI":
      return comparePep440(a, b);
    case "Maven":
      return compareMaven(a, b);
    case "npm":
    case "Go":
    case "semver":
      return compareSemver(a, b, scheme);
  }
}
