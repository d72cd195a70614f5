import { VersionParseError } from "../errors.js";
import type { Distro, Inventory, InventoryPackage } from "../model.js";
import { compareVersions, schemeOf } from "../versions/index.js";
import type { VulnDb } from "./db.js";
import { DEBIAN_RELEASES, normalizePackage } from "./feeds.js";
import { isAffected } from "./osv-range.js";
import { SEVERITIES, type Severity, severityRank } from "./severity.js";

/** A vulnerability of one package of an image. */
export interface Finding {
  /** The CVE when the advisory is one or names one, else the advisory's own ID. */
  id: string;
  advisory: string;
  aliases: string[];
  severity: Severity;
  score?: number;
  cvss?: string;
  summary?: string;
  /** Versions that fix it, above the installed one, lowest first; empty when no fix is known. */
  fixedIn: string[];
  url: string;
  cveUrl?: string;
  package: InventoryPackage;
}

export interface NotChecked {
  package: InventoryPackage;
  reason: string;
}

export interface Matches {
  findings: Finding[];
  notChecked: NotChecked[];
}

/** The OSV ecosystem a package's advisories are filed under, and the name and version to look up. */
export function lookupOf(
  p: InventoryPackage,
  distro: Distro | undefined,
): { ecosystem: string; name: string; version: string } | string {
  switch (p.type) {
    case "deb": {
      if (distro?.id !== "debian")
        return `a Debian package in ${distro?.prettyName ?? "an image without os-release"}`;
      const major =
        distro.versionId?.split(".")[0] ?? (distro.codename ? DEBIAN_RELEASES[distro.codename] : undefined);
      if (!major) return "the Debian release is not known (no VERSION_ID or VERSION_CODENAME in os-release)";
      return {
        ecosystem: `Debian:${major}`,
        name: p.source ?? p.name,
        version: p.sourceVersion ?? p.version,
      };
    }
    case "apk": {
      if (distro?.id !== "alpine")
        return `an apk package in ${distro?.prettyName ?? "an image without os-release"}`;
      const m = /^(\d+)\.(\d+)/.exec(distro.versionId ?? "");
      if (!m) return "the Alpine release is not known (no VERSION_ID in os-release)";
      return { ecosystem: `Alpine:v${m[1]}.${m[2]}`, name: p.source ?? p.name, version: p.version };
    }
    case "rpm":
      return "rpm packages are listed, not checked (no RPM version order or feed yet)";
    case "npm":
      return { ecosystem: "npm", name: p.name, version: p.version };
    case "pypi":
      return { ecosystem: "PyPI", name: normalizePackage("PyPI", p.name), version: p.version };
    case "golang":
      return { ecosystem: "Go", name: p.name, version: p.version };
    case "maven":
      return p.name.includes(":")
        ? { ecosystem: "Maven", name: p.name, version: p.version }
        : "a jar without Maven coordinates (no pom.properties)";
  }
}

function cveUrl(id: string): string | undefined {
  return id.startsWith("CVE-") ? `https://www.cve.org/CVERecord?id=${encodeURIComponent(id)}` : undefined;
}

export function matchInventory(inventory: Inventory, db: VulnDb): Matches {
  const findings: Finding[] = [];
  const notChecked: NotChecked[] = [];
  for (const pkg of inventory.packages) {
    const look = lookupOf(pkg, inventory.distro);
    if (typeof look === "string") {
      notChecked.push({ package: pkg, reason: look });
      continue;
    }
    const scheme = schemeOf(look.ecosystem)!;
    try {
      compareVersions(scheme, look.version, look.version);
    } catch (err) {
      if (!(err instanceof VersionParseError)) throw err;
      notChecked.push({ package: pkg, reason: `version ${look.version} is not a ${look.ecosystem} version` });
      continue;
    }
    const byId = new Map<string, Finding>();
    for (const adv of db.forPackage(look.ecosystem, look.name)) {
      if (!isAffected(scheme, look.version, adv.affected)) continue;
      const cve = [adv.id, ...adv.aliases].find((a) => a.startsWith("CVE-"));
      const id = cve ?? adv.id;
      let sev = { severity: adv.severity, score: adv.score, cvss: adv.cvss };
      if (sev.severity === "unknown") sev = { ...sev, ...(db.severityOf([adv.id, ...adv.aliases]) ?? {}) };
      const fixedIn = adv.fixed
        .filter((f) => {
          try {
            return compareVersions(scheme, f, look.version) > 0;
          } catch {
            return false;
          }
        })
        .sort((a, b) => compareVersions(scheme, a, b));
      const finding: Finding = {
        id,
        advisory: adv.id,
        aliases: adv.aliases,
        ...sev,
        summary: adv.summary,
        fixedIn,
        url: adv.url,
        cveUrl: cveUrl(id),
        package: pkg,
      };
      const known = byId.get(id);
      if (!known) byId.set(id, finding);
      else {
        if (severityRank(finding.severity) < severityRank(known.severity)) {
          Object.assign(known, { severity: finding.severity, score: finding.score, cvss: finding.cvss });
        }
        for (const f of finding.fixedIn) if (!known.fixedIn.includes(f)) known.fixedIn.push(f);
        known.fixedIn.sort((a, b) => compareVersions(scheme, a, b));
      }
    }
    findings.push(...byId.values());
  }
  findings.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (b.score ?? 0) - (a.score ?? 0) ||
      (a.package.name < b.package.name ? -1 : a.package.name > b.package.name ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { findings, notChecked };
}

export interface FindingFilter {
  severities?: Severity[];
  onlyFixed?: boolean;
  packages?: string[];
}

export function filterFindings(findings: Finding[], f: FindingFilter): Finding[] {
  return findings.filter(
    (x) =>
      (!f.severities || f.severities.includes(x.severity)) &&
      (!f.onlyFixed || x.fixedIn.length > 0) &&
      (!f.packages || f.packages.some((n) => n === x.package.name || n === x.package.source)),
  );
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}
