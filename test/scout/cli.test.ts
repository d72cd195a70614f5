import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BERTH_BIN, berth, berthOk } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";
import {
  type Server as Registry,
  start,
  startBerthRegistry,
  tempDir,
  waitFor,
} from "../helpers/processes.js";
import { writeFeeds } from "./feeds.js";
import { writeFixtures } from "./fixture-images.js";
import type { BuiltImage } from "./images.js";

const require = createRequire(import.meta.url);

/** Feeds served over HTTP with a Last-Modified date, as the public feeds are. */
const FEED_DATE = "Wed, 01 May 2024 12:00:00 GMT";

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/stall.json") {
      // Half a feed, then nothing: an update stuck mid-download, to be killed.
      res.writeHead(200, { "content-length": 1000 });
      res.write("{".padEnd(500, " "));
      return;
    }
    const path = join(dir, decodeURIComponent(new URL(req.url!, "http://x").pathname));
    try {
      const body = readFileSync(path);
      res.writeHead(200, { "content-length": body.length, "last-modified": FEED_DATE });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

interface JsonFinding {
  id: string;
  severity: string;
  score?: number;
  fixedIn: string[];
  url: string;
  cveUrl?: string;
  package: { name: string; version: string; layer: { index: number } };
}

function findings(stdout: string): JsonFinding[] {
  return (JSON.parse(stdout) as { vulnerabilities: JsonFinding[] }).vulnerabilities;
}

function pairs(list: JsonFinding[]): string[] {
  return list.map((f) => `${f.package.name} ${f.id}`).sort();
}

describe("berth scout", () => {
  let work: string;
  let root: string;
  let layout: string;
  let feeds: string;
  let http: Server;
  let url: string;
  let images: BuiltImage[];
  let registry: Registry;

  before(async () => {
    work = await tempDir("scout-cli-");
    root = join(work, "store");
    layout = join(work, "oci");
    feeds = join(work, "feeds");
    images = await writeFixtures(layout, work);
    writeFeeds(feeds, work);
    http = await serve(feeds);
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    registry = await startBerthRegistry();
  });
  after(async () => {
    http?.closeAllConnections();
    http?.close();
    await registry?.stop();
  });

  it("cves without a database says how to make one", async () => {
    const r = await berth(root, ["scout", "cves", `oci-dir://${layout}:deb`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no vulnerability database .*berth scout db update/);
  });

  it("db update reads every format from HTTP, a directory and a zip, and counts what it skips", async () => {
    const r = await berthOk(root, [
      "scout",
      "db",
      "update",
      "--source",
      `${url}/debian.json`,
      "--source",
      `${url}/alpine.json`,
      "--source",
      join(feeds, "osv"),
      "--source",
      `${url}/npm-all.zip`,
    ]);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /debian\.json: debian-tracker, 8 records, 6 advisories, 3 skipped/);
    assert.match(lines[0]!, /1 not affected \(fixed_version 0\)/);
    assert.match(lines[0]!, /1 unimportant/);
    assert.match(lines[0]!, /1 malformed/);
    assert.match(lines[0]!, /feed date 2024-05-01T12:00:00\.000Z/);
    assert.match(
      lines[1]!,
      /alpine\.json: alpine-secdb, 3 records, 3 advisories, 2 skipped \(1 not affected \(fixed_version 0\), 1 malformed\)/,
    );
    assert.match(lines[2]!, /osv: osv, 11 records, 7 advisories, 4 skipped/);
    assert.match(lines[2]!, /2 malformed/);
    assert.match(lines[2]!, /1 unknown ecosystem/);
    assert.match(lines[2]!, /1 unparsable version/);
    assert.match(
      lines[3]!,
      /npm-all\.zip: osv, 2 records, 2 advisories, 0 skipped, feed date 2024-05-01T10:00:00Z/,
    );
    assert.match(lines[4]!, /Vulnerability database updated: 18 advisories from 4 feeds/);
    const status = await berthOk(root, [
      "scout",
      "db",
      "status",
      "--format",
      "{{.Source}} {{.Format}} {{.FeedDate}} {{.Advisories}}",
    ]);
    assert.deepEqual(status.stdout.trim().split("\n"), [
      `${url}/debian.json debian-tracker 2024-05-01T12:00:00.000Z 6`,
      `${url}/alpine.json alpine-secdb 2024-05-01T12:00:00.000Z 3`,
      `${join(feeds, "osv")} osv 2024-05-01T10:00:00Z 7`,
      `${url}/npm-all.zip osv 2024-05-01T10:00:00Z 2`,
    ]);
  });

  it("a failed update leaves the previous database in use", async () => {
    const before = statSync(join(root, "scout/vulndb.db"));
    const r = await berth(root, [
      "scout",
      "db",
      "update",
      "--source",
      join(feeds, "debian.json"),
      "--source",
      `${url}/missing.json`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing\.json answered 404/);
    const after = statSync(join(root, "scout/vulndb.db"));
    assert.equal(after.ino, before.ino);
    const status = await berthOk(root, ["scout", "db", "status", "--format", "{{.Source}}"]);
    assert.equal(status.stdout.trim().split("\n").length, 4);
  });

  it("an update killed part-way leaves the previous database, and the next update removes what it left", async () => {
    const dbFile = join(root, "scout/vulndb.db");
    const before = statSync(dbFile);
    const proc = start(process.execPath, [
      BERTH_BIN,
      "--root",
      root,
      "scout",
      "db",
      "update",
      "--source",
      `${url}/stall.json`,
    ]);
    const tmp = `${dbFile}.tmp-${proc.pid}`;
    await waitFor("the update to build its database", () => existsSync(tmp) || proc.proc.exitCode !== null);
    assert.ok(existsSync(tmp), "the update was building its database");
    await proc.kill();
    assert.equal(statSync(dbFile).ino, before.ino);
    const status = await berthOk(root, ["scout", "db", "status", "--format", "{{.Source}}"]);
    assert.equal(status.stdout.trim().split("\n").length, 4);
    await berthOk(root, [
      "scout",
      "db",
      "update",
      ...["debian.json", "alpine.json", "osv", "npm-all.zip"].flatMap((f) => ["--source", join(feeds, f)]),
    ]);
    assert.equal(existsSync(tmp), false, "the killed update's file was removed");
  });

  it("Debian: a later fix, a `~` version at the boundary, an open issue; never fixed_version 0, unimportant, another release", async () => {
    const r = await berthOk(root, ["scout", "cves", `oci-dir://${layout}:deb`, "--format", "json"]);
    const list = findings(r.stdout);
    assert.deepEqual(pairs(list), [
      "libc6 CVE-2024-2001",
      "libssl3 CVE-2024-1001",
      "libssl3 CVE-2024-1005",
      "openssl CVE-2024-1001",
      "openssl CVE-2024-1005",
    ]);
    const f1001 = list.find((f) => f.id === "CVE-2024-1001")!;
    assert.deepEqual(f1001.fixedIn, ["3.0.13-1~deb12u1"]);
    assert.equal(f1001.severity, "high");
    assert.equal(f1001.url, "https://security-tracker.debian.org/tracker/CVE-2024-1001");
    assert.equal(f1001.cveUrl, "https://www.cve.org/CVERecord?id=CVE-2024-1001");
    assert.deepEqual(list.find((f) => f.id === "CVE-2024-1005")!.fixedIn, ["3.0.11-1"]);
    const open = list.find((f) => f.id === "CVE-2024-2001")!;
    assert.deepEqual(open.fixedIn, []);
    assert.equal(open.severity, "medium");
  });

  it("Alpine, npm, PyPI, Go and Maven advisories matched by their own version orders", async () => {
    const r = await berthOk(root, ["scout", "cves", `oci-dir://${layout}:app`, "--format", "json"]);
    const list = findings(r.stdout);
    assert.deepEqual(pairs(list), [
      "express CVE-2024-29041",
      "left-pad GHSA-left-pad-0001",
      "libcrypto3 CVE-2023-3817",
      "musl CVE-2025-26519",
      "org.example:demo GHSA-demo-0001",
      "qs GHSA-hrpp-h998-j3pp",
      "stdlib GO-2099-0001",
      "urllib3 CVE-2021-33503",
    ]);
    const by = (id: string) => list.find((f) => f.id === id)!;
    assert.equal(by("CVE-2024-29041").severity, "critical");
    assert.equal(by("CVE-2024-29041").score, 9.8);
    assert.deepEqual(by("CVE-2024-29041").fixedIn, ["4.19.2"]);
    assert.equal(by("CVE-2021-33503").score, 7.5);
    assert.equal(by("CVE-2023-3817").severity, "high", "rated by another feed's record that aliases it");
    assert.deepEqual(by("CVE-2023-3817").fixedIn, ["3.1.2-r0"]);
    assert.equal(by("GHSA-hrpp-h998-j3pp").severity, "medium");
    assert.deepEqual(by("GHSA-hrpp-h998-j3pp").fixedIn, ["6.7.3"]);
    assert.equal(by("GHSA-demo-0001").severity, "low");
    assert.equal(by("GHSA-left-pad-0001").severity, "unknown");
    assert.equal(by("GO-2099-0001").package.layer.index, 2);
  });

  it("filters, and --exit-code exits 2 only when something matches them", async () => {
    const crit = await berth(root, [
      "scout",
      "cves",
      `oci-dir://${layout}:app`,
      "--only-severity",
      "critical",
      "--format",
      "json",
      "--exit-code",
    ]);
    assert.equal(crit.code, 2);
    assert.deepEqual(pairs(findings(crit.stdout)), ["express CVE-2024-29041"]);
    const none = await berth(root, [
      "scout",
      "cves",
      `oci-dir://${layout}:deb`,
      "--only-severity",
      "critical",
      "--exit-code",
    ]);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /0 vulnerabilities found in 0 packages/);
    const pkg = await berthOk(root, [
      "scout",
      "cves",
      `oci-dir://${layout}:deb`,
      "--only-package",
      "glibc",
      "--format",
      "json",
    ]);
    assert.deepEqual(pairs(findings(pkg.stdout)), ["libc6 CVE-2024-2001"]);
    const fixed = await berthOk(root, [
      "scout",
      "cves",
      `oci-dir://${layout}:deb`,
      "--only-fixed",
      "--only-severity",
      "high,low",
      "--format",
      "json",
    ]);
    assert.equal(findings(fixed.stdout).length, 4);
    const bad = await berth(root, ["scout", "cves", `oci-dir://${layout}:deb`, "--only-severity", "severe"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid severity "severe"/);
  });

  it("renders packages (the default), SARIF and Markdown", async () => {
    const text = await berthOk(root, ["scout", "cves", `oci-dir://${layout}:app`]);
    assert.match(text.stdout, /8 vulnerabilities found in 8 packages/);
    assert.match(text.stdout, /✗ CRITICAL CVE-2024-29041 \(CVSS 9\.8\)/);
    assert.match(text.stdout, /Fixed version : 4\.19\.2/);
    assert.match(text.stdout, /Layer {9}: 2 sha256:[0-9a-f]{64} \(RUN pip install/);
    const out = join(work, "report.sarif");
    await berthOk(root, ["scout", "cves", `oci-dir://${layout}:app`, "--format", "sarif", "-o", out]);
    const sarif = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(sarif.version, "2.1.0");
    assert.equal(sarif.runs[0].results.length, 8);
    assert.equal(
      sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === "CVE-2024-29041").level,
      "error",
    );
    const md = await berthOk(root, ["scout", "cves", `oci-dir://${layout}:deb`, "--format", "markdown"]);
    assert.match(md.stdout, /\| Package \| Version \| Vulnerability \| Severity \| Fixed in \| Layer \|/);
    assert.match(
      md.stdout,
      /\| libc6 \| 2\.36-9\+deb12u4 \| \[CVE-2024-2001\]\(https:\/\/www\.cve\.org\/CVERecord\?id=CVE-2024-2001\) \| medium \| not fixed \| 1 \|/,
    );
  });

  it("sbom writes SPDX 2.3 and CycloneDX 1.5 documents that validate against their schemas", async () => {
    const spdxFile = join(work, "sbom.spdx.json");
    await berthOk(root, ["scout", "sbom", `oci-dir://${layout}:app`, "--format", "spdx", "-o", spdxFile]);
    const Ajv = require("ajv") as typeof import("ajv").default;
    const addFormats = require("ajv-formats") as typeof import("ajv-formats").default;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../test/scout/schemas/spdx-2.3.schema.json"), "utf8"),
    );
    const spdx = JSON.parse(readFileSync(spdxFile, "utf8")) as {
      spdxVersion: string;
      packages: { name: string; licenseDeclared: string; externalRefs: { referenceLocator: string }[] }[];
    };
    const valid = ajv.validate(schema, spdx);
    assert.ok(valid, JSON.stringify(ajv.errors));
    assert.equal(spdx.spdxVersion, "SPDX-2.3");
    const express = spdx.packages.find((p) => p.name === "express")!;
    assert.equal(express.externalRefs[0]!.referenceLocator, "pkg:npm/express@4.17.1");
    assert.equal(express.licenseDeclared, "MIT");
    const urllib3 = spdx.packages.find((p) => p.name === "urllib3")!;
    assert.equal(urllib3.licenseDeclared, "MIT");

    const cdx = await berthOk(root, ["scout", "sbom", `oci-dir://${layout}:app`, "--format", "cyclonedx"]);
    const CDX = require("@cyclonedx/cyclonedx-library") as typeof import("@cyclonedx/cyclonedx-library");
    const error = await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5).validate(cdx.stdout);
    assert.equal(error, null, JSON.stringify(error));
    const bom = JSON.parse(cdx.stdout);
    assert.equal(bom.specVersion, "1.5");
    const demo = bom.components.find((c: { name: string }) => c.name === "demo");
    assert.equal(demo.purl, "pkg:maven/org.example/demo@1.0.0");
    assert.equal(demo.group, "org.example");
    assert.ok(
      demo.properties.some(
        (p: { name: string; value: string }) =>
          p.name === "berth:layer:diffID" && p.value === images[0]!.layers[3]!.diffId,
      ),
    );
  });

  it("sbom --format list names each package, its version, type and layer", async () => {
    const r = await berthOk(root, ["scout", "sbom", `oci-dir://${layout}:app`]);
    const rows = r.stdout.trim().split("\n");
    assert.match(rows[0]!, /^NAME\s+VERSION\s+TYPE\s+LAYER$/);
    assert.ok(rows.some((l) => /^urllib3\s+1\.26\.0\s+pypi\s+2$/.test(l)));
    assert.ok(!rows.some((l) => l.startsWith("requests ")));
    assert.match(r.stderr, /WARNING: \/opt\/broken\.jar \(java, layer 4\)/);
  });

  it('local images, quickview with the base image, and Docker\'s "No such image"', async () => {
    const loaded = await berthOk(root, ["load", "-i", layout]);
    for (const [tag, image] of [
      ["app", images[0]!],
      ["base", images[2]!],
    ] as const) {
      assert.match(loaded.stdout, new RegExp(image.configDigest));
      await berthOk(root, ["tag", image.configDigest, `scout/${tag}:1`]);
    }
    const local = await berthOk(root, ["scout", "sbom", "scout/app:1", "--format", "json"]);
    assert.equal(JSON.parse(local.stdout).packages.length, 13);
    const qv = await berthOk(root, ["scout", "quickview", "scout/app:1"]);
    assert.match(qv.stdout, /Target\s+│ scout\/app:1\s+│\s+1C\s+2H\s+1M\s+1L\s+3\?/);
    assert.match(qv.stdout, /Base image\s+│ scout\/base:1\s+│\s+0C\s+1H\s+0M\s+0L\s+1\?/);
    assert.match(qv.stdout, /layers\s+│ 1 of 5/);
    const missing = await berth(root, ["scout", "sbom", "scout/nothing:1"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), "Error: No such image: scout/nothing:1");
  });

  it("registry:// scans an image held only as blobs in a registry, and says so when a layer is missing", async () => {
    await berthOk(root, ["copy", `oci:${layout}:app`, `${registry.host}/scout/app:1`]);
    const fresh = join(work, "fresh");
    const r = await berthOk(fresh, [
      "scout",
      "sbom",
      `registry://${registry.host}/scout/app:1`,
      "--format",
      "json",
    ]);
    assert.equal(JSON.parse(r.stdout).packages.length, 13);
    const list = await berthOk(fresh, ["images", "-q"]);
    assert.equal(list.stdout.trim(), "", "nothing was pulled into the store");
    const unknown = await berth(fresh, ["scout", "sbom", `registry://${registry.host}/scout/none:1`]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), `Error: No such image: registry://${registry.host}/scout/none:1`);
    const layer = images[0]!.layers[1]!.digest;
    const del = await fetch(`${registry.url}/v2/scout/app/blobs/${layer}`, { method: "DELETE" });
    assert.equal(del.status, 202);
    const gone = await berth(join(work, "fresh2"), [
      "scout",
      "sbom",
      `registry://${registry.host}/scout/app:1`,
    ]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`Error: layer ${layer} cannot be read from .*`));
  });

  it("archive:// and fs:// targets", async () => {
    const archive = await berthOk(root, [
      "scout",
      "sbom",
      `archive://${join(fixtureDir(), "busybox.tar")}`,
      "--format",
      "json",
    ]);
    const inv = JSON.parse(archive.stdout);
    assert.equal(inv.packages.length, 0);
    assert.equal(inv.layers.length, 1);
    const dir = join(work, "rootfs");
    mkdirSync(join(dir, "lib/apk/db"), { recursive: true });
    mkdirSync(join(dir, "etc"), { recursive: true });
    writeFileSync(join(dir, "etc/os-release"), "ID=alpine\nVERSION_ID=3.18.4\n");
    writeFileSync(join(dir, "lib/apk/db/installed"), "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n");
    const fs = await berthOk(root, ["scout", "cves", `fs://${dir}`, "--format", "json"]);
    assert.deepEqual(pairs(findings(fs.stdout)), ["musl CVE-2025-26519"]);
    const bad = await berth(root, ["scout", "sbom", "fs://"]);
    assert.equal(bad.code, 125);
  });
});
