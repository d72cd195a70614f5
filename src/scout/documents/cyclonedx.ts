import { createRequire } from "node:module";
import type * as CDXTypes from "@cyclonedx/cyclonedx-library";
import { PackageURL } from "packageurl-js";
import type { Inventory } from "../model.js";

const require = createRequire(import.meta.url);

export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/**
 * The inventory as a CycloneDX 1.5 JSON BOM, built and serialised by the CycloneDX library:
 * the image is the BOM's subject (a container component), each package a library (an OS
 * package an operating-system component's child would be more exact; scanners keep them flat)
 * with its purl as bom-ref, its licences, and where it came from as properties.
 */
export function cyclonedxJson(inv: Inventory, tool: { name: string; version: string }): string {
  const CDX = require("@cyclonedx/cyclonedx-library") as typeof CDXTypes;
  const { Enums, Models, Serialize, Spec } = CDX;
  const licenses = new CDX.Contrib.License.Factories.LicenseFactory(
    require("spdx-expression-parse") as (s: string) => void,
  );
  const bom = new Models.Bom();
  bom.metadata.timestamp = new Date();
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, tool.name, { version: tool.version }),
  );
  const subject = new Models.Component(Enums.ComponentType.Container, inv.name, {
    bomRef: inv.manifestDigest ?? inv.name,
    version: inv.manifestDigest,
    properties: new Models.PropertyRepository(
      [
        inv.imageId ? new Models.Property("berth:image:id", inv.imageId) : undefined,
        inv.platform ? new Models.Property("berth:image:platform", inv.platform) : undefined,
        inv.distro ? new Models.Property("berth:distro", inv.distro.prettyName ?? inv.distro.id) : undefined,
      ].filter((p): p is CDXTypes.Models.Property => p !== undefined),
    ),
  });
  bom.metadata.component = subject;
  for (const p of inv.packages) {
    const purl = PackageURL.fromString(p.purl);
    const props = [
      new Models.Property("berth:package:type", p.type),
      new Models.Property("berth:layer:digest", p.layer.digest),
      new Models.Property("berth:layer:diffID", p.layer.diffId),
      ...p.locations.map((l) => new Models.Property("berth:location", l)),
    ];
    if (p.layer.createdBy) props.push(new Models.Property("berth:layer:createdBy", p.layer.createdBy));
    if (p.source && p.source !== p.name) props.push(new Models.Property("berth:package:source", p.source));
    if (p.sourceVersion && p.sourceVersion !== p.version)
      props.push(new Models.Property("berth:package:sourceVersion", p.sourceVersion));
    const component = new Models.Component(Enums.ComponentType.Library, purl.name, {
      bomRef: p.purl,
      group: purl.namespace ?? undefined,
      version: p.version,
      purl: p.purl,
      licenses: new Models.LicenseRepository(p.licenses.map((l) => licenses.makeFromString(l))),
      properties: new Models.PropertyRepository(props),
    });
    bom.components.add(component);
    subject.dependencies.add(component.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot5));
  return serializer.serialize(bom, { sortLists: false, space: 2 });
}
