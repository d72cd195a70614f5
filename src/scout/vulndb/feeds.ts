import { schemeOf } from "../versions/index.js";
import { type Affected, checkAffected, type Range } from "./osv-range.js";
import { cvss3BaseScore, ratingOf, type Severity, severityWord } from "./severity.js";

/**
 * The feeds' formats turned into one shape: an advisory for one package of one ecosystem, with
 * OSV's affected ranges. OSV records (one per file, or many in an ecosystem's all.zip), the
 * Debian security tracker's JSON (source package → CVE → release → status, fixed_version,
 * urgency) and Alpine's secdb (a release's packages → secfixes: fixed version → CVEs).
 */
export interface Advisory {
  id: string;
  aliases: string[];
  ecosystem: string;
  package: string;
  summary?: string;
  severity: Severity;
  score?: number;
  cvss?: string;
  affected: Affected;
  /** The versions that fix it, for "fixed in". */
  fixed: string[];
  url: string;
}

export type SkipReason =
  | "malformed"
  | "unknown ecosystem"
  | "unparsable version"
  | "not affected (fixed_version 0)"
  | "unimportant"
  | "withdrawn";

export class FeedCounts {
  records = 0;
  advisories = 0;
  readonly skipped = new Map<SkipReason, number>();
  /** The newest `modified` of the records, when they carry one. */
  newest?: string;

  skip(reason: SkipReason): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  skippedTotal(): number {
    let n = 0;
    for (const v of this.skipped.values()) n += v;
    return n;
  }
}

/** PEP 503's normal form of a Python project name: OSV's PyPI names are compared in it. */
export function normalizePackage(ecosystem: string, name: string): string {
  return ecosystem === "PyPI" ? name.toLowerCase().replace(/[-_.]+/g, "-") : name;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isOsvRecord(v: unknown): boolean {
  return (
    isObject(v) && typeof v.id === "string" && (Array.isArray(v.affected) || typeof v.modified === "string")
  );
}

export function isAlpineSecdb(v: unknown): boolean {
  return isObject(v) && typeof v.distroversion === "string" && Array.isArray(v.packages);
}

function osvSeverity(
  list: unknown,
  dbSpecific: unknown,
): { severity: Severity; score?: number; cvss?: string } {
  let best: { severity: Severity; score?: number; cvss?: string } = { severity: "unknown" };
  if (Array.isArray(list)) {
    for (const s of list) {
      if (!isObject(s) || typeof s.score !== "string") continue;
      if (s.type === "CVSS_V3") {
        const score = cvss3BaseScore(s.score);
        if (score !== undefined && (best.score === undefined || score > best.score))
          best = { severity: ratingOf(score), score, cvss: s.score };
      } else if (s.type === "CVSS_V4" && best.cvss === undefined) {
        best = { ...best, cvss: s.score };
      } else if (s.type === "Ubuntu" && best.severity === "unknown") {
        best = { ...best, severity: severityWord(s.score) };
      }
    }
  }
  if (best.severity === "unknown" && isObject(dbSpecific) && typeof dbSpecific.severity === "string")
    best = { ...best, severity: severityWord(dbSpecific.severity) };
  return best;
}

/** An OSV record's advisories, one per affected package it names in an ecosystem Berth compares. */
export function* parseOsv(record: unknown, counts: FeedCounts): Generator<Advisory> {
  counts.records++;
  if (!isObject(record) || typeof record.id !== "string" || !Array.isArray(record.affected)) {
    counts.skip("malformed");
    return;
  }
  if (typeof record.withdrawn === "string") {
    counts.skip("withdrawn");
    return;
  }
  if (typeof record.modified === "string" && (!counts.newest || record.modified > counts.newest))
    counts.newest = record.modified;
  const id = record.id;
  const aliases = Array.isArray(record.aliases)
    ? record.aliases.filter((a): a is string => typeof a === "string")
    : [];
  const summary =
    typeof record.summary === "string"
      ? record.summary
      : typeof record.details === "string"
        ? record.details.split("\n")[0]
        : undefined;
  const top = osvSeverity(record.severity, record.database_specific);
  for (const a of record.affected) {
    if (
      !isObject(a) ||
      !isObject(a.package) ||
      typeof a.package.ecosystem !== "string" ||
      typeof a.package.name !== "string"
    ) {
      counts.skip("malformed");
      continue;
    }
    const ecosystem = a.package.ecosystem;
    const scheme = schemeOf(ecosystem);
    if (!scheme) {
      counts.skip("unknown ecosystem");
      continue;
    }
    const ranges = Array.isArray(a.ranges) ? a.ranges : [];
    const versions = Array.isArray(a.versions) ? a.versions : [];
    if (
      !ranges.every(
        (r) =>
          isObject(r) && ["SEMVER", "ECOSYSTEM", "GIT"].includes(r.type as string) && Array.isArray(r.events),
      ) ||
      !versions.every((v) => typeof v === "string")
    ) {
      counts.skip("malformed");
      continue;
    }
    const affected: Affected = { ranges: ranges as unknown as Range[], versions: versions as string[] };
    if (!checkAffected(scheme, affected)) {
      counts.skip("unparsable version");
      continue;
    }
    const own = osvSeverity(a.severity, a.database_specific);
    const sev = own.severity !== "unknown" || own.cvss ? own : top;
    const fixed = affected.ranges.flatMap((r) =>
      r.type === "GIT" ? [] : r.events.flatMap((e) => (e.fixed ? [e.fixed] : [])),
    );
    counts.advisories++;
    yield {
      id,
      aliases,
      ecosystem,
      package: normalizePackage(ecosystem, a.package.name),
      summary,
      ...sev,
      affected,
      fixed,
      url: `https://osv.dev/vulnerability/${encodeURIComponent(id)}`,
    };
  }
}

/** Debian's release code names and numbers (distro-info-data), for the tracker's release keys. */
export const DEBIAN_RELEASES: Record<string, string> = {
  wheezy: "7",
  jessie: "8",
  stretch: "9",
  buster: "10",
  bullseye: "11",
  bookworm: "12",
  trixie: "13",
  forky: "14",
  duke: "15",
  sid: "sid",
};

/**
 * The Debian security tracker's JSON: `{ SOURCE: { CVE: { description, releases: { CODENAME:
 * { status, fixed_version, urgency } } } } }`. `fixed_version: "0"` means the release was never
 * affected and `urgency: "unimportant"` that Debian does not treat it as a vulnerability: both
 * are left out. An open issue affects every version.
 */
export function* parseDebianTracker(json: unknown, counts: FeedCounts): Generator<Advisory> {
  if (!isObject(json)) {
    counts.skip("malformed");
    return;
  }
  for (const [source, cves] of Object.entries(json)) {
    if (!isObject(cves)) {
      counts.skip("malformed");
      continue;
    }
    for (const [cve, info] of Object.entries(cves)) {
      counts.records++;
      if (!isObject(info) || !isObject(info.releases)) {
        counts.skip("malformed");
        continue;
      }
      for (const [codename, rel] of Object.entries(info.releases)) {
        if (!isObject(rel) || typeof rel.status !== "string") {
          counts.skip("malformed");
          continue;
        }
        const number = DEBIAN_RELEASES[codename];
        if (!number) {
          counts.skip("unknown ecosystem");
          continue;
        }
        if (rel.urgency === "unimportant") {
          counts.skip("unimportant");
          continue;
        }
        const fixedVersion = typeof rel.fixed_version === "string" ? rel.fixed_version : undefined;
        if (rel.status === "resolved" && fixedVersion === "0") {
          counts.skip("not affected (fixed_version 0)");
          continue;
        }
        if (rel.status === "resolved" && !fixedVersion) {
          counts.skip("malformed");
          continue;
        }
        const events = [
          { introduced: "0" },
          ...(rel.status === "resolved" ? [{ fixed: fixedVersion! }] : []),
        ];
        const affected: Affected = { ranges: [{ type: "ECOSYSTEM", events }], versions: [] };
        if (!checkAffected("Debian", affected)) {
          counts.skip("unparsable version");
          continue;
        }
        counts.advisories++;
        yield {
          id: cve,
          aliases: [],
          ecosystem: `Debian:${number}`,
          package: source,
          summary: typeof info.description === "string" ? info.description.split("\n")[0] : undefined,
          severity: severityWord(
            typeof rel.urgency === "string" ? rel.urgency.replace(/\*$/, "") : undefined,
          ),
          affected,
          fixed: rel.status === "resolved" ? [fixedVersion!] : [],
          url: `https://security-tracker.debian.org/tracker/${encodeURIComponent(cve)}`,
        };
      }
    }
  }
}

/**
 * Alpine's secdb (`v3.18/main.json`): `{ distroversion, packages: [{ pkg: { name, secfixes: {
 * FIXED_VERSION: [CVE…] } } }] }`. A fix listed under version "0" means the package was never
 * affected in Alpine: left out.
 */
export function* parseAlpineSecdb(json: unknown, counts: FeedCounts): Generator<Advisory> {
  if (!isObject(json) || typeof json.distroversion !== "string" || !Array.isArray(json.packages)) {
    counts.skip("malformed");
    return;
  }
  const m = /^v?(\d+)\.(\d+)/.exec(json.distroversion);
  const ecosystem = m ? `Alpine:v${m[1]}.${m[2]}` : json.distroversion === "edge" ? "Alpine:edge" : undefined;
  for (const entry of json.packages) {
    counts.records++;
    const pkg = isObject(entry) ? entry.pkg : undefined;
    if (!isObject(pkg) || typeof pkg.name !== "string" || !isObject(pkg.secfixes)) {
      counts.skip("malformed");
      continue;
    }
    if (!ecosystem) {
      counts.skip("unknown ecosystem");
      continue;
    }
    for (const [version, ids] of Object.entries(pkg.secfixes)) {
      if (!Array.isArray(ids)) {
        counts.skip("malformed");
        continue;
      }
      for (const raw of ids) {
        if (typeof raw !== "string") {
          counts.skip("malformed");
          continue;
        }
        const [id, ...aliases] = raw.split(/\s+/).filter(Boolean);
        if (!id) continue;
        if (version === "0") {
          counts.skip("not affected (fixed_version 0)");
          continue;
        }
        const affected: Affected = {
          ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: version }] }],
          versions: [],
        };
        if (!checkAffected("Alpine", affected)) {
          counts.skip("unparsable version");
          continue;
        }
        counts.advisories++;
        yield {
          id,
          aliases,
          ecosystem,
          package: pkg.name,
          severity: "unknown",
          affected,
          fixed: [version],
          url: `https://security.alpinelinux.org/vuln/${encodeURIComponent(id)}`,
        };
      }
    }
  }
}
