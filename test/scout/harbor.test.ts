import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HarborMediaTypes,
  HarborRequestError,
  harborMetadata,
  harborSbomReport,
  harborVulnerabilityReport,
  parseHarborScanRequest,
} from "../../src/scout/harbor.js";
import type { Inventory, InventoryPackage } from "../../src/scout/model.js";
import type { Finding } from "../../src/scout/vulndb/match.js";

const scanner = { name: "Berth", vendor: "Berth", version: "0.1.0" };
const artifact = {
  repository: "library/app",
  digest: `sha256:${"a".repeat(64)}`,
  mime_type: "application/vnd.oci.image.manifest.v1+json",
};

describe("Harbor's scanner adapter API v1.2 shapes", () => {
  it("metadata lists the vulnerability and sbom capabilities with the spec's media types", () => {
    const m = harborMetadata(scanner, "2024-05-01T00:00:00Z") as {
      capabilities: {
        type: string;
        produces_mime_types: string[];
        additional_attributes?: { sbom_media_types: string[] };
      }[];
      properties: Record<string, string>;
    };
    assert.deepEqual(
      m.capabilities.map((c) => c.type),
      ["vulnerability", "sbom"],
    );
    assert.ok(
      m.capabilities[0]!.produces_mime_types.includes(
        "application/vnd.security.vulnerability.report; version=1.1",
      ),
    );
    assert.deepEqual(m.capabilities[1]!.additional_attributes!.sbom_media_types, [
      "application/spdx+json",
      "application/vnd.cyclonedx+json",
    ]);
    assert.equal(
      m.properties["harbor.scanner-adapter/vulnerability-database-updated-at"],
      "2024-05-01T00:00:00Z",
    );
  });

  it("scan requests are checked field by field, with the spec's statuses", () => {
    const ok = parseHarborScanRequest({
      registry: { url: "https://core.harbor.domain", authorization: "Basic eA==" },
      artifact,
      enabled_capabilities: [
        { type: "sbom", parameters: { sbom_media_types: ["application/vnd.cyclonedx+json"] } },
      ],
    });
    assert.deepEqual(ok.capabilities, ["sbom"]);
    assert.deepEqual(ok.sbomMediaTypes, ["application/vnd.cyclonedx+json"]);
    const status = (body: unknown) => {
      try {
        parseHarborScanRequest(body);
        return 0;
      } catch (err) {
        assert.ok(err instanceof HarborRequestError);
        return err.status;
      }
    };
    assert.equal(status("nope"), 400);
    assert.equal(status({ registry: { url: "ftp://x" }, artifact }), 422);
    assert.equal(
      status({ registry: { url: "https://x" }, artifact: { ...artifact, digest: "latest" } }),
      422,
    );
    assert.equal(
      status({
        registry: { url: "https://x" },
        artifact: { ...artifact, mime_type: "application/vnd.oci.image.index.v1+json" },
      }),
      501,
    );
    assert.equal(
      status({ registry: { url: "https://x" }, artifact, enabled_capabilities: [{ type: "malware" }] }),
      501,
    );
  });

  it("a vulnerability report carries each finding with the worst severity on top; an SBOM report wraps the document", () => {
    const pkg = {
      type: "deb",
      name: "libssl3",
      version: "3.0.11-1~deb12u2",
      licenses: [],
      purl: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2",
      location: "/var/lib/dpkg/status",
      locations: ["/var/lib/dpkg/status"],
      layer: { index: 0, digest: `sha256:${"b".repeat(64)}`, diffId: `sha256:${"c".repeat(64)}` },
    } as InventoryPackage;
    const finding = (id: string, severity: Finding["severity"], score?: number): Finding => ({
      id,
      advisory: id,
      aliases: [],
      severity,
      score,
      cvss: score ? "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" : undefined,
      fixedIn: ["3.0.13-1~deb12u1"],
      url: `https://security-tracker.debian.org/tracker/${id}`,
      cveUrl: `https://www.cve.org/CVERecord?id=${id}`,
      package: pkg,
    });
    const inv = {
      name: "app",
      layers: [],
      packages: [pkg],
      unreadable: [],
      analysed: { read: 1, cached: 0 },
    } as Inventory;
    const r = harborVulnerabilityReport(
      inv,
      [finding("CVE-1", "medium"), finding("CVE-2", "critical", 9.8)],
      artifact,
      scanner,
    ) as {
      severity: string;
      vulnerabilities: {
        id: string;
        severity: string;
        fix_version: string;
        links: string[];
        preferred_cvss?: { score_v3: number };
      }[];
    };
    assert.equal(r.severity, "Critical");
    assert.deepEqual(
      r.vulnerabilities.map((v) => `${v.id} ${v.severity} ${v.fix_version}`),
      ["CVE-1 Medium 3.0.13-1~deb12u1", "CVE-2 Critical 3.0.13-1~deb12u1"],
    );
    assert.equal(r.vulnerabilities[1]!.preferred_cvss!.score_v3, 9.8);
    assert.equal(r.vulnerabilities[0]!.links.length, 2);
    const empty = harborVulnerabilityReport(inv, [], artifact, scanner) as { severity: string };
    assert.equal(empty.severity, "Unknown");
    const sbom = harborSbomReport(
      { bomFormat: "CycloneDX" },
      HarborMediaTypes.CYCLONEDX,
      artifact,
      scanner,
    ) as { media_type: string };
    assert.equal(sbom.media_type, "application/vnd.cyclonedx+json");
  });
});
