import type { Inventory } from "./model.js";
import type { Finding } from "./vulndb/match.js";
import { type Severity, severityRank } from "./vulndb/severity.js";

/**
 * Harbor's pluggable scanner adapter API v1.2 (goharbor/pluggable-scanner-spec): its media
 * types and JSON shapes, as pure functions, for the registry to serve at /api/v1 (metadata,
 * scan, scan/{id}/report). Nothing here does I/O.
 */
export const HarborMediaTypes = {
  METADATA: "application/vnd.scanner.adapter.metadata+json; version=1.1",
  SCAN_REQUEST: "application/vnd.scanner.adapter.scan.request+json; version=1.1",
  SCAN_RESPONSE: "application/vnd.scanner.adapter.scan.response+json; version=1.0",
  ERROR: "application/vnd.scanner.adapter.error+json; version=1.0",
  VULN_REPORT_HARBOR: "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
  VULN_REPORT: "application/vnd.security.vulnerability.report; version=1.1",
  SBOM_REPORT: "application/vnd.security.sbom.report+json; version=1.0",
  SPDX: "application/spdx+json",
  CYCLONEDX: "application/vnd.cyclonedx+json",
} as const;

const CONSUMES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

export interface HarborScanner {
  name: string;
  vendor: string;
  version: string;
}

export function harborMetadata(scanner: HarborScanner, databaseUpdatedAt?: string): object {
  return {
    scanner,
    capabilities: [
      {
        type: "vulnerability",
        consumes_mime_types: CONSUMES,
        produces_mime_types: [HarborMediaTypes.VULN_REPORT_HARBOR, HarborMediaTypes.VULN_REPORT],
      },
      {
        type: "sbom",
        consumes_mime_types: CONSUMES,
        produces_mime_types: [HarborMediaTypes.SBOM_REPORT],
        additional_attributes: { sbom_media_types: [HarborMediaTypes.SPDX, HarborMediaTypes.CYCLONEDX] },
      },
    ],
    properties: {
      "harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
      ...(databaseUpdatedAt
        ? { "harbor.scanner-adapter/vulnerability-database-updated-at": databaseUpdatedAt }
        : {}),
    },
  };
}

export interface HarborArtifact {
  repository: string;
  digest: string;
  tag?: string;
  mime_type?: string;
}

export interface HarborScanRequest {
  registry: { url: string; authorization?: string };
  artifact: HarborArtifact;
  capabilities: ("vulnerability" | "sbom")[];
  sbomMediaTypes: string[];
}

/** A refused scan request: `status` is the spec's (400 for JSON of the wrong shape, 422 for a bad field, 501 for a capability not had). */
export class HarborRequestError extends Error {
  constructor(
    readonly status: 400 | 422 | 501,
    message: string,
  ) {
    super(message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function parseHarborScanRequest(body: unknown): HarborScanRequest {
  if (!isObject(body) || !isObject(body.registry) || !isObject(body.artifact))
    throw new HarborRequestError(400, "a scan request has a registry and an artifact object");
  const { registry, artifact } = body;
  if (typeof registry.url !== "string" || !/^https?:\/\//.test(registry.url))
    throw new HarborRequestError(422, "registry.url must be an http(s) URL");
  if (registry.authorization !== undefined && typeof registry.authorization !== "string")
    throw new HarborRequestError(400, "registry.authorization must be a string");
  if (typeof artifact.repository !== "string" || artifact.repository === "")
    throw new HarborRequestError(422, "artifact.repository is required");
  if (
    typeof artifact.digest !== "string" ||
    !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(artifact.digest)
  )
    throw new HarborRequestError(422, "artifact.digest must be a digest");
  if (artifact.mime_type !== undefined && !CONSUMES.includes(artifact.mime_type as string))
    throw new HarborRequestError(501, `artifacts of type ${String(artifact.mime_type)} are not scanned`);
  let capabilities: HarborScanRequest["capabilities"] = ["vulnerability", "sbom"];
  let sbomMediaTypes: string[] = [HarborMediaTypes.SPDX, HarborMediaTypes.CYCLONEDX];
  if (body.enabled_capabilities !== undefined) {
    if (!Array.isArray(body.enabled_capabilities))
      throw new HarborRequestError(400, "enabled_capabilities must be an array");
    capabilities = [];
    for (const c of body.enabled_capabilities) {
      if (!isObject(c) || (c.type !== "vulnerability" && c.type !== "sbom"))
        throw new HarborRequestError(
          501,
          `capability ${JSON.stringify(isObject(c) ? c.type : c)} is not supported`,
        );
      capabilities.push(c.type);
      const types = isObject(c.parameters) ? c.parameters.sbom_media_types : undefined;
      if (c.type === "sbom" && Array.isArray(types)) {
        if (!types.every((t) => t === HarborMediaTypes.SPDX || t === HarborMediaTypes.CYCLONEDX))
          throw new HarborRequestError(
            422,
            "sbom_media_types may hold application/spdx+json and application/vnd.cyclonedx+json",
          );
        sbomMediaTypes = types as string[];
      }
    }
  }
  return {
    registry: { url: registry.url, authorization: registry.authorization as string | undefined },
    artifact: {
      repository: artifact.repository,
      digest: artifact.digest,
      tag: typeof artifact.tag === "string" ? artifact.tag : undefined,
      mime_type: artifact.mime_type as string | undefined,
    },
    capabilities,
    sbomMediaTypes,
  };
}

const HARBOR_SEVERITY: Record<Severity, string> = {
  critical: "Critical",
  high: "High",
  medium: "Medium",
  low: "Low",
  unknown: "Unknown",
};

/** HarborVulnerabilityReport: every finding, the worst severity as the report's. */
export function harborVulnerabilityReport(
  inv: Inventory,
  findings: Finding[],
  artifact: HarborArtifact,
  scanner: HarborScanner,
  generatedAt = new Date(),
): object {
  const worst = findings.reduce<Severity | undefined>(
    (w, f) => (w === undefined || severityRank(f.severity) < severityRank(w) ? f.severity : w),
    undefined,
  );
  return {
    generated_at: generatedAt.toISOString(),
    artifact,
    scanner,
    // The spec's scale has no "none": a report without vulnerabilities says Unknown, as its lowest.
    severity: worst ? HARBOR_SEVERITY[worst] : "Unknown",
    vulnerabilities: findings.map((f) => ({
      id: f.id,
      package: f.package.name,
      version: f.package.version,
      fix_version: f.fixedIn[0] ?? "",
      severity: HARBOR_SEVERITY[f.severity],
      description: f.summary ?? "",
      links: [f.url, ...(f.cveUrl && f.cveUrl !== f.url ? [f.cveUrl] : [])],
      ...(f.score !== undefined || f.cvss
        ? {
            preferred_cvss: {
              ...(f.score !== undefined ? { score_v3: f.score } : {}),
              ...(f.cvss?.startsWith("CVSS:3") ? { vector_v3: f.cvss } : {}),
            },
          }
        : {}),
      cwe_ids: [],
      vendor_attributes: {
        purl: f.package.purl,
        layer: { digest: f.package.layer.digest, diff_id: f.package.layer.diffId },
        advisory: f.advisory,
      },
    })),
    ...(inv.distro ? { vendor_attributes: { distro: inv.distro.prettyName ?? inv.distro.id } } : {}),
  };
}

/** HarborSbomReport: the SBOM document (already made) wrapped with its media type. */
export function harborSbomReport(
  sbom: object,
  mediaType: string,
  artifact: HarborArtifact,
  scanner: HarborScanner,
  generatedAt = new Date(),
): object {
  return {
    generated_at: generatedAt.toISOString(),
    artifact,
    scanner,
    vendor_attributes: {},
    media_type: mediaType,
    sbom,
  };
}

export function harborError(message: string): object {
  return { error: { message } };
}
