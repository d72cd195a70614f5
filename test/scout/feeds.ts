import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeZip } from "./images.js";

/**
 * Small feeds in the real formats, with the matches the scout tests expect written by hand
 * against the fixture images' package versions (fixture-images.ts).
 */
export const DEBIAN_TRACKER = {
  openssl: {
    "CVE-2024-1001": {
      description: "openssl: fixed in a later version",
      releases: { bookworm: { status: "resolved", fixed_version: "3.0.13-1~deb12u1", urgency: "high" } },
    },
    "CVE-2024-1002": {
      description: "openssl: never vulnerable in bookworm",
      releases: { bookworm: { status: "resolved", fixed_version: "0", urgency: "high" } },
    },
    "CVE-2024-1003": {
      description: "openssl: not treated as a vulnerability",
      releases: { bookworm: { status: "open", urgency: "unimportant" } },
    },
    "CVE-2024-1004": {
      description: "openssl: fixed in exactly the installed version",
      releases: { bookworm: { status: "resolved", fixed_version: "3.0.11-1~deb12u2", urgency: "medium" } },
    },
    "CVE-2024-1005": {
      description: "openssl: fixed in 3.0.11-1, which sorts after the installed 3.0.11-1~deb12u2",
      releases: { bookworm: { status: "resolved", fixed_version: "3.0.11-1", urgency: "low" } },
    },
    "CVE-2024-1006": {
      description: "openssl: bullseye only",
      releases: { bullseye: { status: "resolved", fixed_version: "1.1.1w-0+deb11u2", urgency: "high" } },
    },
  },
  glibc: {
    "CVE-2024-2001": {
      description: "glibc: not fixed yet",
      releases: { bookworm: { status: "open", urgency: "medium" } },
    },
  },
  zlib: {
    // The source version (1:1.2.13.dfsg-1) is compared, not the binary's (…+b1): not affected.
    "CVE-2024-3001": {
      description: "zlib: fixed in the installed source version",
      releases: { bookworm: { status: "resolved", fixed_version: "1:1.2.13.dfsg-1", urgency: "high" } },
    },
  },
  broken: "not an object",
};

export const ALPINE_SECDB = {
  distroversion: "v3.18",
  reponame: "main",
  urlprefix: "https://dl-cdn.alpinelinux.org/alpine",
  packages: [
    {
      pkg: {
        name: "openssl",
        secfixes: { "3.1.2-r0": ["CVE-2023-3817"], "3.1.0-r0": ["CVE-2023-0464"], "0": ["CVE-2023-9999"] },
      },
    },
    { pkg: { name: "musl", secfixes: { "1.2.4-r3": ["CVE-2025-26519"] } } },
    { pkg: "junk" },
  ],
};

const osv = (id: string, ecosystem: string, name: string, extra: object, top: object = {}) => ({
  schema_version: "1.6.0",
  id,
  modified: "2024-05-01T10:00:00Z",
  summary: `${name}: test advisory ${id}`,
  ...top,
  affected: [{ package: { ecosystem, name }, ...extra }],
});

const CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

export const OSV_FILES: Record<string, object | string> = {
  "GHSA-express.json": osv(
    "GHSA-rv95-896h-c2vc",
    "npm",
    "express",
    { ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "4.19.2" }] }] },
    { aliases: ["CVE-2024-29041"], severity: [{ type: "CVSS_V3", score: CRITICAL }] },
  ),
  "PYSEC-urllib3.json": osv(
    "PYSEC-2021-108",
    "PyPI",
    "urllib3",
    { ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.26.5" }] }] },
    {
      aliases: ["CVE-2021-33503"],
      severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" }],
    },
  ),
  "GHSA-requests.json": osv("GHSA-j8r2-6x86-q33q", "PyPI", "requests", {
    ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.31.0" }] }],
  }),
  "GO-stdlib.json": osv("GO-2099-0001", "Go", "stdlib", {
    ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "99.0.0" }] }],
  }),
  "GHSA-demo.json": osv(
    "GHSA-demo-0001",
    "Maven",
    "org.example:demo",
    { ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { last_affected: "1.0.0" }] }] },
    { database_specific: { severity: "LOW" } },
  ),
  "GHSA-lang3.json": osv("GHSA-lang3-0001", "Maven", "org.apache.commons:commons-lang3", {
    ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "3.0" }, { fixed: "3.12.0" }] }],
  }),
  // Rates the CVE that Alpine's secdb names without a severity.
  "GHSA-openssl-rating.json": osv(
    "GHSA-openssl-3817",
    "npm",
    "not-installed",
    { ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }] },
    {
      aliases: ["CVE-2023-3817"],
      severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" }],
    },
  ),
  "bad.json": { id: "BAD-1", modified: "2024-01-01T00:00:00Z", affected: [{ package: "nope" }] },
  "unknown.json": osv("RUSTSEC-2024-0001", "crates.io", "tokio", {
    ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { fixed: "1.0.0" }] }],
  }),
  "badver.json": osv("GHSA-badver", "npm", "express", {
    ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "not a version" }] }],
  }),
  "notjson.json": "{ this is not json",
};

export const ZIP_RECORDS = {
  "GHSA-qs.json": osv(
    "GHSA-hrpp-h998-j3pp",
    "npm",
    "qs",
    { ranges: [{ type: "SEMVER", events: [{ introduced: "6.7.0" }, { fixed: "6.7.3" }] }] },
    { database_specific: { severity: "MODERATE" } },
  ),
  "GHSA-left-pad.json": osv("GHSA-left-pad-0001", "npm", "left-pad", { versions: ["1.2.0", "1.3.0"] }),
};

/** Writes the feeds under `dir`: debian.json, alpine.json, osv/ (one record per file), npm-all.zip. */
export function writeFeeds(dir: string, work: string): void {
  mkdirSync(join(dir, "osv"), { recursive: true });
  writeFileSync(join(dir, "debian.json"), JSON.stringify(DEBIAN_TRACKER));
  writeFileSync(join(dir, "alpine.json"), JSON.stringify(ALPINE_SECDB));
  for (const [name, body] of Object.entries(OSV_FILES))
    writeFileSync(join(dir, "osv", name), typeof body === "string" ? body : JSON.stringify(body));
  const zip = makeZip(
    Object.fromEntries(Object.entries(ZIP_RECORDS).map(([k, v]) => [k, JSON.stringify(v)])),
    work,
    "npm-all.zip",
  );
  writeFileSync(join(dir, "npm-all.zip"), zip);
}
