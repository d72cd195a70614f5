/** The media types Berth understands, from the OCI image-spec and Docker's image manifest v2. */
export const MediaTypes = {
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  OCI_INDEX: "application/vnd.oci.image.index.v1+json",
  OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
  OCI_LAYER: "application/vnd.oci.image.layer.v1.tar",
  OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
  OCI_LAYER_ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
  OCI_LAYER_NONDIST: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OCI_LAYER_NONDIST_GZIP: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OCI_LAYER_NONDIST_ZSTD: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  OCI_EMPTY: "application/vnd.oci.empty.v1+json",
  OCI_LAYOUT_HEADER: "application/vnd.oci.layout.header.v1+json",
  DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
  DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
  DOCKER_CONFIG: "application/vnd.docker.container.image.v1+json",
  DOCKER_LAYER: "application/vnd.docker.image.rootfs.diff.tar",
  DOCKER_LAYER_GZIP: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DOCKER_LAYER_ZSTD: "application/vnd.docker.image.rootfs.diff.tar.zstd",
  DOCKER_FOREIGN_LAYER: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  DOCKER_FOREIGN_LAYER_TAR: "application/vnd.docker.image.rootfs.foreign.diff.tar",
  DOCKER_PLUGIN_CONFIG: "application/vnd.docker.plugin.v1+json",
  DOCKER_SCHEMA1_SIGNED: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  DOCKER_SCHEMA1: "application/vnd.docker.distribution.manifest.v1+json",
} as const;

export type KnownMediaType = (typeof MediaTypes)[keyof typeof MediaTypes];

/** The manifest types a registry stores and serves (schema1 is refused). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaTypes.OCI_MANIFEST,
  MediaTypes.OCI_INDEX,
  MediaTypes.DOCKER_MANIFEST,
  MediaTypes.DOCKER_MANIFEST_LIST,
];

export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  MediaTypes.DOCKER_SCHEMA1,
  MediaTypes.DOCKER_SCHEMA1_SIGNED,
];

type Compression = "none" | "gzip" | "zstd";

const LAYER_COMPRESSION: ReadonlyMap<string, Compression> = new Map<string, Compression>([
  [MediaTypes.OCI_LAYER, "none"],
  [MediaTypes.OCI_LAYER_GZIP, "gzip"],
  [MediaTypes.OCI_LAYER_ZSTD, "zstd"],
  [MediaTypes.OCI_LAYER_NONDIST, "none"],
  [MediaTypes.OCI_LAYER_NONDIST_GZIP, "gzip"],
  [MediaTypes.OCI_LAYER_NONDIST_ZSTD, "zstd"],
  [MediaTypes.DOCKER_LAYER, "none"],
  [MediaTypes.DOCKER_LAYER_GZIP, "gzip"],
  [MediaTypes.DOCKER_LAYER_ZSTD, "zstd"],
  [MediaTypes.DOCKER_FOREIGN_LAYER, "gzip"],
  [MediaTypes.DOCKER_FOREIGN_LAYER_TAR, "none"],
]);

const NON_DISTRIBUTABLE: ReadonlySet<string> = new Set([
  MediaTypes.OCI_LAYER_NONDIST,
  MediaTypes.OCI_LAYER_NONDIST_GZIP,
  MediaTypes.OCI_LAYER_NONDIST_ZSTD,
  MediaTypes.DOCKER_FOREIGN_LAYER,
  MediaTypes.DOCKER_FOREIGN_LAYER_TAR,
]);

/**
 * The bare type of a Content-Type value: parameters dropped, whitespace trimmed, lowercased
 * (RFC 6838 type names are case-insensitive).
 */
export function baseMediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

// RFC 6838 section 4.2: type "/" subtype, each a restricted-name of at most 127 characters.
const RESTRICTED_NAME = "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
const MEDIA_TYPE_RE = new RegExp(`^${RESTRICTED_NAME}/${RESTRICTED_NAME}$`);

/** True for a bare RFC 6838 media type (no parameters), as descriptors must carry. */
export function isValidMediaType(mt: string): boolean {
  return typeof mt === "string" && MEDIA_TYPE_RE.test(mt);
}

export function isIndexMediaType(mt: string): boolean {
  const base = baseMediaType(mt);
  return base === MediaTypes.OCI_INDEX || base === MediaTypes.DOCKER_MANIFEST_LIST;
}

/** Single-image manifests (not indexes). */
export function isManifestMediaType(mt: string): boolean {
  const base = baseMediaType(mt);
  return base === MediaTypes.OCI_MANIFEST || base === MediaTypes.DOCKER_MANIFEST;
}

export function isSchema1MediaType(mt: string): boolean {
  return SCHEMA1_MEDIA_TYPES.includes(baseMediaType(mt));
}

export function isLayerMediaType(mt: string): boolean {
  return LAYER_COMPRESSION.has(baseMediaType(mt));
}

/** Layers whose blobs are not pushed to registries (Windows base layers and the like). */
export function isNonDistributableMediaType(mt: string): boolean {
  return NON_DISTRIBUTABLE.has(baseMediaType(mt));
}

/** How a layer of this type is compressed; undefined if it is not a known layer type. */
export function layerCompression(mt: string): Compression | undefined {
  return LAYER_COMPRESSION.get(baseMediaType(mt));
}
