import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ImageSource, SourceBlob, SourceManifest } from "../content/source.js";
import { decompressStream, detectCompression, peek } from "../layer/compression.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ImageIndex, type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType, layerCompression, MediaTypes } from "../oci/media-types.js";
import { parseReference, type Reference } from "../oci/reference.js";
import {
  ArchiveDigestMismatchError,
  ArchiveError,
  MissingMemberError,
  TruncatedArchiveError,
  UnknownArchiveFormatError,
} from "./errors.js";
import { type ArchiveFiles, DirectoryFiles, type MemberInfo, readMember, TarFiles } from "./files.js";
import { indexTar } from "./tar-index.js";

export type ArchiveFormat = "docker-archive" | "oci-archive" | "oci-layout";

/** One image of an archive, ready for `importImage(store, source, <reference as a digest ref>)`. */
export interface ArchiveImage {
  source: ImageSource;
  /** What to pass to `source.getManifest`: the digest of the image's manifest (or index). */
  reference: string;
  /** As the archive spells them: RepoTags, or io.containerd.image.name / a full ref.name annotation. */
  names: string[];
  /** `names` parsed and normalised ("busybox:1" is docker.io/library/busybox:1). */
  references: Reference[];
}

export interface OpenedArchive {
  format: ArchiveFormat;
  /** How messages name the archive. */
  description: string;
  images: ArchiveImage[];
  /** The member a blob is read from, for messages ("blobs/sha256/…" or a docker-archive layer file). */
  memberOf(digest: string): string | undefined;
  /** Removes the temporary copy made of a compressed archive or of a stream. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Where a stream or a compressed archive is copied to be read by offset (default: the OS's). */
  tmpDir?: string;
  /** How messages name the archive (default: the path). */
  description?: string;
}

/**
 * Opens a docker-archive, an OCI archive (a tar of an OCI layout) or an OCI layout directory,
 * telling which by its contents. A tar is read in place: one pass records where each member's
 * data lies and hashes it, then blobs are served by ranged reads. A gzip- or zstd-compressed tar
 * (docker load takes those) is first decompressed to a temporary file. Everything the images
 * need is checked here (members present, digests and sizes, manifests and configs parse), so a
 * load that starts does not stop half-way over a broken archive.
 */
export async function openArchiveSource(path: string, opts: OpenOptions = {}): Promise<OpenedArchive> {
  const description = opts.description ?? path;
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new ArchiveError(
      `cannot open ${description}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`,
    );
  });
  if (st.isDirectory()) return openFiles(new DirectoryFiles(path, description), false);
  const fh = await open(path, "r");
  const head = Buffer.alloc(512);
  try {
    await fh.read(head, 0, 512, 0);
  } finally {
    await fh.close();
  }
  if (detectCompression(head) !== "none") return openStream(createReadStream(path), opts, description);
  return openTar(path, description, async () => {});
}

/** The same from a stream (`load` reading standard input): it is copied to a temporary file first. */
export async function openArchiveStream(input: Readable, opts: OpenOptions = {}): Promise<OpenedArchive> {
  return openStream(input, opts, opts.description ?? "the archive on standard input");
}

async function openStream(input: Readable, opts: OpenOptions, description: string): Promise<OpenedArchive> {
  const base = opts.tmpDir ?? tmpdir();
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, "load-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const file = join(dir, "archive.tar");
    const { head, stream } = await peek(input, 4);
    const kind = detectCompression(head);
    try {
      await pipeline(stream, decompressStream(kind), createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      const message = (err as Error).message;
      if (/unexpected end/i.test(message)) throw new TruncatedArchiveError(description, undefined);
      throw new ArchiveError(`cannot read ${description} (${kind} compressed): ${message}`);
    }
    return await openTar(file, description, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function openTar(path: string, description: string, cleanup: () => Promise<void>) {
  let files: TarFiles;
  try {
    files = new TarFiles(path, description, await indexTar(path, description), cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return openFiles(files, true);
}

async function openFiles(files: ArchiveFiles, isTar: boolean): Promise<OpenedArchive> {
  try {
    const source = new ArchiveSource(files);
    let format: ArchiveFormat;
    let images: ArchiveImage[];
    if (await files.stat("manifest.json")) {
      format = "docker-archive";
      images = await readDockerArchive(files, source);
    } else if (await files.stat("index.json")) {
      format = isTar ? "oci-archive" : "oci-layout";
      images = await readOciLayout(files, source);
    } else {
      throw new UnknownArchiveFormatError(files.description);
    }
    return {
      format,
      description: files.description,
      images,
      memberOf: (digest) => source.memberOf(digest),
      close: () => files.close(),
    };
  } catch (err) {
    await files.close();
    throw err;
  }
}

/**
 * An archive as an image source: manifests by digest (or by ref.name), blobs by digest, read
 * from the members the archive readers registered or from blobs/ALG/HEX. docker-archive
 * manifests, which the archive does not have, are synthesised and served from memory.
 */
export class ArchiveSource implements ImageSource {
  readonly description: string;
  private readonly blobs = new Map<string, MemberInfo>();
  private readonly manifests = new Map<string, SourceManifest>();
  readonly refNames = new Map<string, string>();

  constructor(private readonly files: ArchiveFiles) {
    this.description = files.description;
  }

  memberOf(digest: string): string | undefined {
    return this.blobs.get(digest)?.name ?? (Digest.isValid(digest) ? blobPath(digest) : undefined);
  }

  addBlob(digest: string, info: MemberInfo): void {
    this.blobs.set(digest, info);
  }

  addManifest(bytes: Buffer, mediaType: string): string {
    const digest = digestOf(bytes);
    this.manifests.set(digest.toString(), { bytes, mediaType, digest });
    return digest.toString();
  }

  async getManifest(reference: string): Promise<SourceManifest> {
    const wanted = this.refNames.get(reference) ?? reference;
    const known = this.manifests.get(wanted);
    if (known) return known;
    if (!Digest.isValid(wanted)) {
      throw new ArchiveError(`${this.description} has no image named ${JSON.stringify(reference)}`);
    }
    const bytes = await this.readBlob(wanted, undefined, "an image index");
    const manifest = { bytes, mediaType: parseManifest(bytes).mediaType, digest: Digest.parse(wanted) };
    this.manifests.set(wanted, manifest);
    return manifest;
  }

  async getBlob(digest: string, offset = 0): Promise<SourceBlob> {
    const info = await this.member(digest, undefined, "an image manifest");
    const start = offset > 0 && offset <= info.size ? offset : 0;
    return { stream: this.files.open(info, start), offset: start, length: info.size - start };
  }

  /**
   * The member holding a blob, checked: present, of the size its descriptor says, and (where
   * the digest is already known, as for every member of a tar) hashing to its digest.
   */
  async member(digest: string, size: number | undefined, referrer: string): Promise<MemberInfo> {
    const path = this.memberOf(digest);
    if (path === undefined)
      throw new ArchiveError(
        `${referrer} in ${this.description} has an invalid digest ${JSON.stringify(digest)}`,
      );
    const info = this.blobs.get(digest) ?? (await this.files.stat(path));
    if (!info) throw new MissingMemberError(this.description, path, referrer);
    if (size !== undefined && info.size !== size) {
      throw new ArchiveError(
        `${JSON.stringify(info.name)} in ${this.description} is ${info.size} bytes, but ${referrer} says ${size}: the archive is corrupt or was modified`,
      );
    }
    if (this.files instanceof TarFiles || info.size <= 1024 * 1024) {
      const actual = (await this.files.describe(info, Digest.parse(digest).algorithm)).digest;
      if (actual !== digest)
        throw new ArchiveDigestMismatchError(this.description, info.name, digest, actual);
    }
    return info;
  }

  async readBlob(digest: string, size: number | undefined, referrer: string): Promise<Buffer> {
    const info = await this.member(digest, size, referrer);
    const bytes = await readMember(this.files, info);
    const actual = digestOf(bytes, Digest.parse(digest).algorithm).toString();
    if (actual !== digest) throw new ArchiveDigestMismatchError(this.description, info.name, digest, actual);
    return bytes;
  }
}

function blobPath(digest: string): string {
  const d = Digest.parse(digest);
  return `blobs/${d.algorithm}/${d.hex}`;
}

function parseName(name: unknown, archive: string, where: string): Reference {
  if (typeof name !== "string")
    throw new ArchiveError(`${where} in ${archive} has a name that is not a string`);
  try {
    return parseReference(name);
  } catch (err) {
    throw new ArchiveError(
      `${where} in ${archive} names the image ${JSON.stringify(name)}: ${(err as Error).message}`,
    );
  }
}

async function readJson(files: ArchiveFiles, name: string): Promise<unknown> {
  const info = await files.stat(name);
  if (!info) throw new MissingMemberError(files.description, name, "the archive's format");
  try {
    return JSON.parse((await readMember(files, info)).toString("utf8"));
  } catch (err) {
    throw new ArchiveError(`${name} in ${files.description} is not valid JSON: ${(err as Error).message}`);
  }
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function isEntry(v: unknown): v is DockerArchiveEntry {
  const e = v as DockerArchiveEntry;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.Config === "string" &&
    Array.isArray(e.Layers) &&
    e.Layers.every((l) => typeof l === "string") &&
    (e.RepoTags === undefined || e.RepoTags === null || Array.isArray(e.RepoTags))
  );
}

const LAYER_MEDIA_TYPES = {
  none: MediaTypes.OCI_LAYER,
  gzip: MediaTypes.OCI_LAYER_GZIP,
  zstd: MediaTypes.OCI_LAYER_ZSTD,
} as const;

/**
 * A docker-archive: manifest.json lists each image's config and layer files (plain tars from
 * Docker before 25 and buildah, the compressed blobs from Berth and containerd). Each layer's
 * digest and compression come from its bytes, and an OCI manifest describing them is
 * synthesised — unless the archive also carries an OCI layout (Docker 25+, Berth) with a
 * manifest over exactly these blobs, which is then used as is, so the image keeps its digest.
 */
async function readDockerArchive(files: ArchiveFiles, source: ArchiveSource): Promise<ArchiveImage[]> {
  const archive = files.description;
  const entries = await readJson(files, "manifest.json");
  if (!Array.isArray(entries) || !entries.every(isEntry)) {
    throw new ArchiveError(
      `manifest.json in ${archive} is not a docker-archive manifest (a list of {Config, RepoTags, Layers})`,
    );
  }
  if (entries.length === 0) throw new ArchiveError(`manifest.json in ${archive} lists no images`);
  const originals = await originalManifests(files, source);
  const images: ArchiveImage[] = [];
  for (const entry of entries) {
    const configInfo = await files.stat(entry.Config);
    if (!configInfo) throw new MissingMemberError(archive, entry.Config, "manifest.json");
    const configBytes = await readMember(files, configInfo);
    const configDigest = digestOf(configBytes).toString();
    await checkNamedBlob(files, configInfo);
    let diffIds: string[];
    try {
      diffIds = parseImageConfig(configBytes).rootfs.diff_ids;
    } catch (err) {
      throw new ArchiveError(
        `the image config ${JSON.stringify(entry.Config)} in ${archive} is not valid: ${(err as Error).message}`,
      );
    }
    if (diffIds.length !== entry.Layers.length) {
      throw new ArchiveError(
        `manifest.json in ${archive} lists ${entry.Layers.length} layers for ${entry.Config}, whose config has ${diffIds.length}`,
      );
    }
    source.addBlob(configDigest, configInfo);
    const layers = [];
    for (const [i, name] of entry.Layers.entries()) {
      const info = await files.stat(name);
      if (!info) throw new MissingMemberError(archive, name, "manifest.json");
      const { digest, head } = await checkNamedBlob(files, info);
      const compression = detectCompression(head);
      checkPlainLayer(archive, info.name, compression, digest, diffIds[i]!);
      source.addBlob(digest, info);
      layers.push({ mediaType: LAYER_MEDIA_TYPES[compression], digest, size: info.size });
    }
    const key = [configDigest, ...layers.map((l) => l.digest)].join(" ");
    const reference =
      originals.get(key) ??
      source.addManifest(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaTypes.OCI_MANIFEST,
            config: { mediaType: MediaTypes.OCI_CONFIG, digest: configDigest, size: configBytes.length },
            layers,
          }),
        ),
        MediaTypes.OCI_MANIFEST,
      );
    const names = entry.RepoTags ?? [];
    images.push({
      source,
      reference,
      names,
      references: names.map((n) => parseName(n, archive, "manifest.json")),
    });
  }
  return images;
}

/** A member stored as blobs/ALG/HEX must hash to that digest. Returns its sha256 and first bytes. */
async function checkNamedBlob(files: ArchiveFiles, info: MemberInfo) {
  const described = await files.describe(info);
  const m = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(info.name);
  if (m) {
    const named = `${m[1]}:${m[2]}`;
    const actual = m[1] === "sha256" ? described.digest : (await files.describe(info, "sha512")).digest;
    if (actual !== named) throw new ArchiveDigestMismatchError(files.description, info.name, named, actual);
  }
  return described;
}

/**
 * The image manifests an archive's index.json reaches (one level of index included), keyed by
 * their config and layer digests, for a docker-archive that carries an OCI layout beside it.
 */
async function originalManifests(files: ArchiveFiles, source: ArchiveSource): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const indexInfo = await files.stat("index.json");
  if (!indexInfo) return found;
  let index: ImageIndex;
  try {
    index = parseManifest(await readMember(files, indexInfo)).value as ImageIndex;
  } catch {
    return found; // manifest.json is what Docker reads; a broken index.json beside it is not fatal.
  }
  const visit = async (descs: ImageIndex["manifests"] | undefined, depth: number) => {
    for (const desc of descs ?? []) {
      const info = Digest.isValid(desc.digest) ? await files.stat(blobPath(desc.digest)) : undefined;
      if (!info || info.size !== desc.size) continue;
      let bytes: Buffer;
      try {
        bytes = await source.readBlob(desc.digest, desc.size, "index.json");
      } catch {
        continue;
      }
      const parsed = (() => {
        try {
          return parseManifest(bytes);
        } catch {
          return undefined;
        }
      })();
      if (parsed?.kind === "index" && depth === 0) await visit((parsed.value as ImageIndex).manifests, 1);
      if (parsed?.kind !== "manifest") continue;
      const m = parsed.value as ImageManifest;
      const digest = source.addManifest(bytes, parsed.mediaType);
      found.set([m.config.digest, ...m.layers.map((l) => l.digest)].join(" "), digest);
    }
  };
  await visit(index.manifests, 0);
  return found;
}

/**
 * An OCI image layout (a directory, or a tar of one): index.json lists the images, named by
 * io.containerd.image.name (Docker, containerd) or by a ref.name that is a full reference; a
 * bare ref.name ("latest", skopeo's "app-1") names no repository, so such an image loads untagged,
 * as with Docker. Several descriptors of one manifest (one per name) make one image.
 */
async function readOciLayout(files: ArchiveFiles, source: ArchiveSource): Promise<ArchiveImage[]> {
  const archive = files.description;
  const indexInfo = (await files.stat("index.json"))!;
  let index: ImageIndex;
  try {
    const parsed = parseManifest(await readMember(files, indexInfo));
    if (parsed.kind !== "index") throw new Error("it is an image manifest, not an index");
    index = parsed.value as ImageIndex;
  } catch (err) {
    throw new ArchiveError(
      `index.json in ${archive} is not a valid OCI image index: ${(err as Error).message}`,
    );
  }
  const images = new Map<string, ArchiveImage>();
  for (const desc of index.manifests) {
    if (!isManifestMediaType(desc.mediaType) && !isIndexMediaType(desc.mediaType)) continue;
    const annotations = desc.annotations ?? {};
    const refName = annotations["org.opencontainers.image.ref.name"];
    if (refName !== undefined) source.refNames.set(refName, desc.digest);
    let image = images.get(desc.digest);
    if (!image) {
      await checkManifest(source, desc.digest, desc.size, "index.json", 0);
      image = { source, reference: desc.digest, names: [], references: [] };
      images.set(desc.digest, image);
    }
    const full = annotations["io.containerd.image.name"];
    const name = full ?? (refName !== undefined && /[:/]/.test(refName) ? refName : undefined);
    if (name !== undefined && !image.names.includes(name)) {
      image.names.push(name);
      image.references.push(parseName(name, archive, "index.json"));
    }
  }
  if (images.size === 0) throw new ArchiveError(`index.json in ${archive} lists no images`);
  return [...images.values()];
}

/**
 * Checks what a manifest needs before anything is stored. An index's children that the archive
 * lacks are allowed (a save of one platform of a multi-platform image keeps the whole index);
 * the import fails clearly if the platform it picks is one of them.
 */
async function checkManifest(
  source: ArchiveSource,
  digest: string,
  size: number,
  referrer: string,
  depth: number,
): Promise<void> {
  const bytes = await source.readBlob(digest, size, referrer);
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(bytes);
  } catch (err) {
    throw new ArchiveError(
      `the manifest ${digest} in ${source.description} is not valid: ${(err as Error).message}`,
    );
  }
  const what = `the manifest ${digest}`;
  if (parsed.kind === "index") {
    if (depth > 0) return;
    for (const child of (parsed.value as ImageIndex).manifests) {
      if (!isManifestMediaType(child.mediaType)) continue;
      const present = await source.member(child.digest, child.size, what).then(
        () => true,
        (err: unknown) => {
          if (err instanceof MissingMemberError) return false;
          throw err;
        },
      );
      if (present) await checkManifest(source, child.digest, child.size, what, depth + 1);
    }
    return;
  }
  const manifest = parsed.value as ImageManifest;
  const configBytes = await source.readBlob(manifest.config.digest, manifest.config.size, what);
  let diffIds: string[];
  try {
    const config = parseImageConfig(configBytes);
    diffIds = config.rootfs.diff_ids;
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new Error(
        `it lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`,
      );
    }
  } catch (err) {
    throw new ArchiveError(
      `the image config ${manifest.config.digest} in ${source.description} is not valid: ${(err as Error).message}`,
    );
  }
  for (const [i, layer] of manifest.layers.entries()) {
    const info = await source.member(layer.digest, layer.size, what);
    checkPlainLayer(
      source.description,
      info.name,
      layerCompression(layer.mediaType),
      layer.digest,
      diffIds[i]!,
    );
  }
}

/**
 * An uncompressed layer's digest is its diff_id. Checked here because importImage does not
 * unpack (so does not check) a layer whose chain the store already has, yet keeps its blob for
 * later saves and pushes. A compressed layer is only checked when it is unpacked.
 */
function checkPlainLayer(
  archive: string,
  member: string,
  compression: string | undefined,
  digest: string,
  diffId: string,
): void {
  if (compression === "none" && digest !== diffId) {
    throw new ArchiveDigestMismatchError(archive, member, diffId, digest, "diff_id");
  }
}
