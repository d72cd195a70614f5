import type { Digest } from "../oci/digest.js";

/**
 * Where the registry keeps things inside a storage driver. Blobs are stored once, globally, by
 * digest; a repository holds only links to them, so a blob is readable through a repository
 * only if it was pushed or mounted there. Repository path components cannot start with "_"
 * (the name grammar forbids it), so the "_layers", "_manifests", "_uploads" and "_referrers"
 * directories never collide with a nested repository.
 */
export const layout = {
  blobData: (d: Digest) => `/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`,
  repositories: () => "/repositories",
  repository: (name: string) => `/repositories/${name}`,
  layerLink: (name: string, d: Digest) => `/repositories/${name}/_layers/${d.algorithm}/${d.hex}/link`,
  layerLinkDir: (name: string, d: Digest) => `/repositories/${name}/_layers/${d.algorithm}/${d.hex}`,
  manifestsDir: (name: string) => `/repositories/${name}/_manifests`,
  revisionLink: (name: string, d: Digest) =>
    `/repositories/${name}/_manifests/revisions/${d.algorithm}/${d.hex}/link`,
  revisionDir: (name: string, d: Digest) =>
    `/repositories/${name}/_manifests/revisions/${d.algorithm}/${d.hex}`,
  tagsDir: (name: string) => `/repositories/${name}/_manifests/tags`,
  tagDir: (name: string, tag: string) => `/repositories/${name}/_manifests/tags/${tag}`,
  tagLink: (name: string, tag: string) => `/repositories/${name}/_manifests/tags/${tag}/current/link`,
  uploadsDir: (name: string) => `/repositories/${name}/_uploads`,
  uploadDir: (name: string, uuid: string) => `/repositories/${name}/_uploads/${uuid}`,
  uploadData: (name: string, uuid: string) => `/repositories/${name}/_uploads/${uuid}/data`,
  uploadStartedAt: (name: string, uuid: string) => `/repositories/${name}/_uploads/${uuid}/startedat`,
  referrersDir: (name: string, subject: Digest) =>
    `/repositories/${name}/_referrers/${subject.algorithm}/${subject.hex}`,
  referrerEntry: (name: string, subject: Digest, d: Digest) =>
    `/repositories/${name}/_referrers/${subject.algorithm}/${subject.hex}/${d.algorithm}-${d.hex}`,
};

/** Directory names under a repository that belong to the registry, not to nested repositories. */
export const RESERVED_DIRS = new Set(["_layers", "_manifests", "_uploads", "_referrers"]);
