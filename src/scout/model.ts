/**
 * What `scout` finds in an image, as plain data (cached per layer as JSON): packages, where they
 * were declared, which layer added them, and the package sources that could not be read.
 */

/** Bumped whenever what a layer analysis finds changes, so cached analyses of older code are not used. */
export const ANALYZER_VERSION = 1;

/** purl types Berth reports. */
export type PackageType = "deb" | "apk" | "rpm" | "pypi" | "npm" | "golang" | "maven";

export interface RawPackage {
  type: PackageType;
  /** The package's own name: `libc6`, `requests`, `@scope/name`, `github.com/x/y`, `group:artifact`. */
  name: string;
  version: string;
  /** The source package (dpkg `Source:`, apk origin, rpm source RPM): distributions publish advisories by it. */
  source?: string;
  sourceVersion?: string;
  arch?: string;
  /** Licences as the package data declares them (SPDX identifiers where the data uses them). */
  licenses: string[];
  /** The file that declared the package, relative to the image's root. */
  location: string;
}

/** A package with its package URL, which needs the image's distribution (known only across layers). */
export interface Package extends RawPackage {
  purl: string;
}

/** A distribution, from etc/os-release. */
export interface Distro {
  id: string;
  versionId?: string;
  codename?: string;
  prettyName?: string;
  idLike?: string[];
}

/** One package database, manifest or binary found in a layer, or why it could not be read. */
export interface SourceFinding {
  /** The file, relative to the image's root, without a leading slash. */
  path: string;
  kind: SourceKind;
  packages: RawPackage[];
  /** Licences by binary package name (dpkg's copyright files). */
  licenses?: Record<string, string[]>;
  distro?: Distro;
  /** Set when the source could not be read: the packages it holds are missing from the inventory. */
  error?: string;
}

export type SourceKind =
  | "dpkg"
  | "dpkg-copyright"
  | "apk"
  | "rpm"
  | "os-release"
  | "python"
  | "node"
  | "node-lock"
  | "go"
  | "java";

/** What one layer holds, independent of the layers below it: the unit cached by diff_id. */
export interface LayerAnalysis {
  sources: SourceFinding[];
  /** Paths the layer deletes (whiteouts), relative, without a leading slash. */
  deleted: string[];
  /** Directories whose lower contents the layer hides (opaque whiteouts). */
  opaque: string[];
}

/** The layer of the image that added a package. */
export interface LayerRef {
  index: number;
  digest: string;
  diffId: string;
  /** The history line (`created_by`) that made the layer. */
  createdBy?: string;
}

export interface InventoryPackage extends Package {
  layer: LayerRef;
  /** Every file that declared this package (a package in node_modules and in a lock file). */
  locations: string[];
}

export interface UnreadableSource {
  path: string;
  kind: SourceKind;
  error: string;
  layer: LayerRef;
}

export interface Inventory {
  /** What was scanned, as the user named it. */
  name: string;
  /** The image manifest's digest (absent for fs://). */
  manifestDigest?: string;
  imageId?: string;
  platform?: string;
  distro?: Distro;
  layers: LayerRef[];
  packages: InventoryPackage[];
  unreadable: UnreadableSource[];
  /** How many layers were read now, and how many came from the cache. */
  analysed: { read: number; cached: number };
}
