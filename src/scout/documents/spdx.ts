import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { Inventory } from "../model.js";

const require = createRequire(import.meta.url);

export const SPDX_MEDIA_TYPE = "application/spdx+json";

/** A licence as an SPDX expression: itself when it parses as one, else a LicenseRef of the document. */
function licenseExpression(
  names: string[],
  extracted: Map<string, string>,
  parse: (s: string) => unknown,
): string {
  if (names.length === 0) return "NOASSERTION";
  const parts = names.map((n) => {
    try {
      parse(n);
      return names.length > 1 && /\s/.test(n) ? `(${n})` : n;
    } catch {
      const id = `LicenseRef-${n.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "") || "unknown"}`;
      extracted.set(id, n);
      return id;
    }
  });
  return [...new Set(parts)].join(" AND ");
}

/**
 * The inventory as an SPDX 2.3 JSON document: the image is the described package (purpose
 * CONTAINER) and CONTAINS every package, each with its purl as a PACKAGE-MANAGER reference,
 * its declared licences (non-SPDX names as LicenseRef- with their text), and where it came from.
 */
export function spdxJson(inv: Inventory, tool: { name: string; version: string }): string {
  const parse = require("spdx-expression-parse") as (s: string) => unknown;
  const extracted = new Map<string, string>();
  const created = `${new Date().toISOString().slice(0, 19)}Z`;
  const imageId = "SPDXRef-Image";
  const packages = inv.packages.map((p, i) => ({
    SPDXID: `SPDXRef-Package-${p.type}-${i + 1}`,
    name: p.name,
    versionInfo: p.version,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: licenseExpression(p.licenses, extracted, parse),
    copyrightText: "NOASSERTION",
    ...(p.source && p.source !== p.name
      ? { sourceInfo: `built from source package ${p.source} ${p.sourceVersion ?? ""}`.trim() }
      : {}),
    externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl }],
    comment: `layer ${p.layer.index + 1} (${p.layer.digest}, diff_id ${p.layer.diffId}); declared in ${p.locations.join(", ")}`,
  }));
  const doc = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: inv.name,
    documentNamespace: `https://berth.invalid/spdx/${encodeURIComponent(inv.name)}-${randomUUID()}`,
    creationInfo: { created, creators: [`Tool: ${tool.name}-${tool.version}`] },
    documentDescribes: [imageId],
    packages: [
      {
        SPDXID: imageId,
        name: inv.name,
        ...(inv.manifestDigest ? { versionInfo: inv.manifestDigest } : {}),
        downloadLocation: "NOASSERTION",
        filesAnalyzed: false,
        licenseConcluded: "NOASSERTION",
        licenseDeclared: "NOASSERTION",
        copyrightText: "NOASSERTION",
        primaryPackagePurpose: "CONTAINER",
      },
      ...packages,
    ],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: imageId },
      ...packages.map((p) => ({
        spdxElementId: imageId,
        relationshipType: "CONTAINS",
        relatedSpdxElement: p.SPDXID,
      })),
    ],
    ...(extracted.size > 0
      ? {
          hasExtractedLicensingInfos: [...extracted].map(([licenseId, text]) => ({
            licenseId,
            extractedText: text,
            name: text,
          })),
        }
      : {}),
  };
  return JSON.stringify(doc, null, 2);
}
