/**
 * Image archives, in and out: `docker save` and `docker load`.
 *
 * Save
 *   saveImages(store, items: SaveItem[], out: Writable): Promise<void>
 *     Streams one tar to `out` (and ends it) holding, as Docker 25+ writes it, both an OCI image
 *     layout (oci-layout, index.json, blobs/sha256/…) and a docker-archive over the same blobs
 *     (manifest.json: [{Config: "blobs/sha256/HEX", RepoTags, Layers: ["blobs/sha256/HEX", …]}],
 *     and the legacy `repositories`). Each image keeps the manifest and compressed layers it was
 *     pulled or loaded with, byte for byte. `SaveItem = { imageId, names: Reference[] }`; an
 *     item without names is saved untagged (RepoTags null, no name annotations).
 *   saveImagesToFile(store, items, path): Promise<void>
 *     The same into a temporary file beside `path`, renamed over it once complete (`save -o`).
 *
 * Load
 *   loadArchive(store, input: string | Readable, opts?: LoadOptions): Promise<LoadedImage[]>
 *     `load -i PATH` or `load` from a stream: a docker-archive, an OCI archive or an OCI layout
 *     directory (a tar may be gzip- or zstd-compressed). Every image comes in through
 *     importImage, the walk a pull takes; tags are recorded only when every image is in, and a
 *     failed load removes the images it added. `LoadedImage = { imageId, manifest, names:
 *     Reference[] }`: the CLI prints `Loaded image: familiarString(name)` for each name, or
 *     `Loaded image ID: imageId` for an image without one.
 *   openArchiveSource(path, opts?): Promise<OpenedArchive>
 *   openArchiveStream(stream, opts?): Promise<OpenedArchive>
 *     The archive as ImageSources, for callers that walk it themselves (copy from an archive):
 *     `{ format, description, images: { source, reference, names, references }[], memberOf,
 *     close }`, where `source.getManifest(reference)` starts the walk. A tar is indexed in one
 *     pass (member offsets and digests) and read in place by ranged reads; nothing is extracted.
 *     Everything the images need is checked when opening. Call close() when done.
 *   loadImages(store, archive: OpenedArchive, opts?): Promise<LoadedImage[]>
 *     loadArchive's second half, over an archive already opened.
 *
 * Errors (all `ArchiveError`, with a `code`): NotAnArchiveError (ARCHIVE_NOT_TAR),
 * TruncatedArchiveError (ARCHIVE_TRUNCATED), UnknownArchiveFormatError (ARCHIVE_NO_MANIFEST: no
 * manifest.json nor index.json), UnsafeMemberError (ARCHIVE_UNSAFE_PATH: a member or link leaving
 * the archive), MissingMemberError (ARCHIVE_MISSING_MEMBER), ArchiveDigestMismatchError
 * (ARCHIVE_DIGEST_MISMATCH), and ArchiveError itself (ARCHIVE_INVALID: malformed JSON, sizes, names).
 * An import can also fail with the errors of importImage (a layer's diff_id, a missing platform).
 */
export {
  ArchiveDigestMismatchError,
  ArchiveError,
  MissingMemberError,
  NotAnArchiveError,
  TruncatedArchiveError,
  UnknownArchiveFormatError,
  UnsafeMemberError,
} from "./errors.js";
export { type LoadedImage, type LoadOptions, loadArchive, loadImages } from "./load.js";
export {
  type ArchiveFormat,
  type ArchiveImage,
  ArchiveSource,
  type OpenedArchive,
  type OpenOptions,
  openArchiveSource,
  openArchiveStream,
} from "./open.js";
export { type SaveItem, saveImages, saveImagesToFile } from "./save.js";
