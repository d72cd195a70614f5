import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobNotFoundError } from "../content/errors.js";
import type { Ingest } from "../content/store.js";
import { chainIds } from "../images/chain.js";
import type { LayerBlob, LayerRecord } from "../images/db.js";
import { Lease } from "../images/leases.js";
import type { LocalStore } from "../images/local-store.js";
import { resolveLocalImage } from "../images/resolve.js";
import { compressStream, decompressStream, detectCompression, peek } from "../layer/compression.js";
import { DiffIdMismatchError } from "../layer/errors.js";
import { unpackLayer } from "../layer/unpack.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, digestOf, digestTransform } from "../oci/digest.js";
import { children, type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { layerCompression, MediaTypes } from "../oci/media-types.js";
import type { Reference } from "../oci/reference.js";
import { InvalidImageError } from "./errors.js";
import { skipBytes } from "./streams.js";
import type {
  BlobNode,
  BlobReadOptions,
  BlobReporter,
  BlobStream,
  FetchedManifest,
  ImageContext,
  ImageSink,
  ImageSource,
  OpenBlob,
} from "./types.js";
import { verifyBytes } from "./verify.js";

export interface LocalSinkOptions {
  /** The registry repository the image comes from (a pull): its repo digest and blob sources are recorded. */
  origin?: { registry: string; repository: string };
}

export interface LocalCommit {
  imageId: string;
  /** The root's digest: the index's for a multi-platform image. */
  digest: string;
  /** The image manifest's digest. */
  manifest: string;
  /** Nothing was fetched, and every name already pointed at this image. */
  upToDate: boolean;
}

/**
 * How far behind the download the unpacking may be before the download waits for it. Small:
 * zlib inflates what it is given whole, so 1 MiB here held ~45 MB more at a pull's peak
 * (three text-heavy layers in flight) for no gain in speed.
 */
const UNPACK_BUFFER = 128 * 1024;

/**
 * The local store as an image sink (pull, load). Each layer is streamed once: into the content
 * store (hashed, committed only when its digest checks out) and, at the same time, into the
 * unpacker, which writes it into a private directory under tmp/ and checks its diff_id. The
 * directory is renamed to the layer's chain-ID directory only when both checks pass; the image,
 * its tags and repo digest are recorded at the end, in one transaction. Everything the pull
 * touches is held in a lease from before it is looked at until that transaction, so a
 * concurrent rmi or prune never deletes it.
 */
export class LocalStoreSink implements ImageSink<LocalCommit> {
  readonly description: string;
  readonly takesForeignLayers = true;
  readonly answersLocally = true;
  private readonly lease: Lease;
  private readonly manifests: FetchedManifest[] = [];
  private readonly chains = new WeakMap<ImageContext, string[]>();
  private image?: ImageContext;
  private readonly layers: LayerRecord[] = [];
  private readonly layerBlobs: LayerBlob[] = [];
  private fetched = 0;

  constructor(
    private readonly store: LocalStore,
    private readonly opts: LocalSinkOptions = {},
  ) {
    this.description = `local store ${store.root}`;
    this.lease = Lease.open(store.db);
  }

  /** The chain ID and diff_id of a layer, from the image config. */
  private layerOf(node: BlobNode): { chainId: string; diffId: string; parent: string | null } {
    const config = node.image.config;
    if (!config) {
      throw new InvalidImageError(
        `${node.image.manifest.descriptor.digest} is not a container image (its config is ${node.image.manifest.parsed.value.config.mediaType}): it cannot be stored as one`,
      );
    }
    let chains = this.chains.get(node.image);
    if (!chains) {
      chains = chainIds(config.rootfs.diff_ids);
      this.chains.set(node.image, chains);
    }
    return {
      chainId: chains[node.index]!,
      diffId: config.rootfs.diff_ids[node.index]!,
      parent: node.index > 0 ? chains[node.index - 1]! : null,
    };
  }

  blobKey(node: BlobNode): string {
    return node.role === "layer" ? `layer ${this.layerOf(node).chainId}` : node.desc.digest;
  }

  private adopt(image: ImageContext): void {
    if (this.image && this.image !== image) {
      throw new InvalidImageError(
        "the local store takes one image at a time: name a platform to take one image of an index",
      );
    }
    this.image = image;
  }

  async has(node: BlobNode): Promise<boolean> {
    this.adopt(node.image);
    this.lease.hold("blob", node.desc.digest);
    const digest = Digest.parse(node.desc.digest);
    if (node.role === "config") return this.store.content.has(digest);
    const { chainId, diffId } = this.layerOf(node);
    this.lease.hold("layer", chainId);
    // The layer and this very blob: the image can then be pushed or saved with its own manifest.
    const record = this.store.db.layer(chainId);
    if (!record || !existsSync(this.store.layerDiffDir(chainId))) return false;
    if (!(await this.store.content.has(digest))) return false;
    this.note(node, record, diffId);
    return true;
  }

  async putBlob(node: BlobNode, open: OpenBlob, report: BlobReporter): Promise<"pushed"> {
    const digest = Digest.parse(node.desc.digest);
    if (node.role === "config") {
      await this.store.content.write({ digest, size: node.desc.size }, (await open()).stream);
      return "pushed";
    }
    const layer = this.layerOf(node);
    const existing = this.store.db.layer(layer.chainId);
    if (existing && existsSync(this.store.layerDiffDir(layer.chainId))) {
      // The layer came in another compressed form: this one is kept, once it is known to be the same layer.
      await this.fetch(node, open, report, async () => {});
      await checkDiffId(this.store, node, layer.diffId);
      this.note(node, existing, layer.diffId);
      return "pushed";
    }
    const size = await this.fetchAndUnpack(node, open, report, layer.chainId, layer.diffId);
    const record: LayerRecord = { chainId: layer.chainId, diffId: layer.diffId, parent: layer.parent, size };
    this.store.db.write(() => this.store.db.addLayer(record));
    this.note(node, record, layer.diffId);
    return "pushed";
  }

  private note(node: BlobNode, record: LayerRecord, diffId: string): void {
    this.layers[node.index] = record;
    this.layerBlobs.push({
      diffId,
      digest: node.desc.digest,
      mediaType: node.desc.mediaType,
      size: node.desc.size,
    });
  }

  /**
   * Streams a layer blob into the content store and, chunk by chunk, to `onChunk`; resumes a
   * partial download left by an earlier pull (what is on disk goes to `onChunk` first). The
   * blob is committed, and so becomes visible, only if its size and digest check out.
   */
  private async fetch(
    node: BlobNode,
    open: OpenBlob,
    report: BlobReporter,
    onChunk: (chunk: Buffer) => Promise<void>,
  ): Promise<void> {
    const digest = Digest.parse(node.desc.digest);
    const size = node.desc.size;
    const ingest = await this.store.content.ingest({ digest, size });
    if (!ingest) {
      for await (const chunk of await this.store.content.reader(digest)) await onChunk(chunk as Buffer);
      report("transferred");
      return;
    }
    try {
      for await (const chunk of ingest.written()) await onChunk(chunk);
      await download(ingest, open, onChunk, (done) => report("transferring", done, size));
      report("verifying");
      await ingest.commit();
    } catch (err) {
      // Keeps what arrived for a later resume; after a failed commit there is nothing to keep.
      await ingest.close();
      throw err;
    }
    this.fetched++;
    report("transferred");
  }

  /** Downloads a layer and unpacks it at the same time; installs it once both are verified. Resolves to its size (Docker's count). */
  private async fetchAndUnpack(
    node: BlobNode,
    open: OpenBlob,
    report: BlobReporter,
    chainId: string,
    diffId: string,
  ): Promise<number> {
    const tmp = await this.store.makeTmpDir("unpack");
    const feed = new PassThrough({ highWaterMark: UNPACK_BUFFER });
    let fed = 0;
    const failed = new AbortController();
    const unpacking = (async () => {
      await mkdir(join(tmp, "diff"));
      return unpackLayer({
        source: feed,
        dest: join(tmp, "diff"),
        expectedDiffId: diffId,
        mediaType: node.desc.mediaType,
      });
    })();
    unpacking.catch(() => failed.abort());
    try {
      await this.fetch(node, open, report, async (chunk) => {
        fed += chunk.length;
        if (!feed.write(chunk)) await drained(feed, failed.signal, unpacking);
      });
      feed.end();
      const timer = setInterval(() => report("unpacking", fed - feed.readableLength, node.desc.size), 100);
      let result: Awaited<typeof unpacking>;
      try {
        result = await unpacking;
      } finally {
        clearInterval(timer);
      }
      report("unpacking", node.desc.size, node.desc.size);
      await install(tmp, this.store.layerDir(chainId));
      return result.contentSize;
    } catch (err) {
      feed.destroy();
      await unpacking.catch(() => {});
      throw err;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async putManifest(manifest: FetchedManifest): Promise<void> {
    this.manifests.push(manifest);
  }

  async commit(root: FetchedManifest, names: Reference[]): Promise<LocalCommit> {
    const image = this.image;
    if (!image?.config) throw new InvalidImageError(`${root.descriptor.digest} holds no container image`);
    const config = image.config;
    const db = this.store.db;
    const manifests = [...this.manifests, root].filter((m) => !m.madeUp);
    for (const m of manifests) {
      this.lease.hold("blob", m.descriptor.digest);
      await this.store.content.write({ digest: Digest.parse(m.descriptor.digest) }, Readable.from([m.bytes]));
    }
    const imageId = image.manifest.parsed.value.config.digest;
    const manifestDigest = image.manifest.descriptor.digest;
    const known = db.image(imageId) !== undefined;
    const tagged = names.filter((n) => n.tag && !n.digest);
    const moved = tagged.some((n) => db.tagged(`${n.registry}/${n.repository}`, n.tag!) !== imageId);
    const origin = this.opts.origin;
    db.write(() => {
      db.addImage({
        image: {
          id: imageId,
          configSize: image.configBytes.length,
          created: config.created ?? null,
          os: config.os,
          architecture: config.architecture,
          variant: config.variant ?? null,
          size: this.layers.reduce((sum, l) => sum + l.size, 0),
          parent: null,
        },
        layers: this.layers,
        layerBlobs: this.layerBlobs,
        manifests: manifests.map((m) => ({
          digest: m.descriptor.digest,
          mediaType: m.parsed.mediaType,
          size: m.bytes.length,
          imageId: m.descriptor.digest === manifestDigest ? imageId : null,
        })),
        repoDigest: origin
          ? { repository: `${origin.registry}/${origin.repository}`, digest: root.descriptor.digest }
          : undefined,
        blobSources: origin
          ? [image.manifest.parsed.value.config, ...image.manifest.parsed.value.layers].map((d) => ({
              digest: d.digest,
              registry: origin.registry,
              repository: origin.repository,
            }))
          : [],
      });
      for (const n of tagged) {
        db.setTag(
          `${n.registry}/${n.repository}`,
          n.tag!,
          imageId,
          image.manifest.madeUp ? null : manifestDigest,
        );
      }
      this.lease.release();
    });
    return {
      imageId,
      digest: root.descriptor.digest,
      manifest: manifestDigest,
      upToDate: this.fetched === 0 && known && !moved,
    };
  }

  /** Lets go of what the lease holds, for a transfer that failed (commit releases it otherwise). */
  abort(): void {
    this.lease.release();
  }
}

/** Continues an ingest from its offset; a source that restarts from 0 has the bytes the ingest holds skipped. */
async function download(
  ingest: Ingest,
  open: OpenBlob,
  onChunk: (chunk: Buffer) => Promise<void>,
  progress: (bytes: number) => void,
): Promise<void> {
  const blob = await open({ offset: ingest.offset });
  let last = 0;
  const skip = ingest.offset - blob.offset;
  for await (const chunk of skip > 0 ? skipBytes(blob.stream, skip) : blob.stream) {
    await ingest.write(chunk);
    await onChunk(chunk);
    const now = Date.now();
    if (now - last > 100) {
      last = now;
      progress(ingest.offset);
    }
  }
  progress(ingest.offset);
}

/** Waits for a stream to drain, unless the unpacker failed meanwhile (then it rejects with that). */
async function drained(stream: PassThrough, failed: AbortSignal, unpacking: Promise<unknown>): Promise<void> {
  if (failed.aborted) await unpacking;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      stream.off("drain", onDrain);
      unpacking.then(() => resolve(), reject);
    };
    const onDrain = () => {
      failed.removeEventListener("abort", onAbort);
      resolve();
    };
    stream.once("drain", onDrain);
    failed.addEventListener("abort", onAbort, { once: true });
  });
}

/** Renames an unpacked layer into its chain-ID directory; one another process put there first is as good. */
async function install(tmp: string, final: string): Promise<void> {
  await mkdir(dirname(final), { recursive: true });
  try {
    await rename(tmp, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
  }
}

/**
 * A blob kept for a layer that is already unpacked was never unpacked itself: check that it
 * decompresses to the diff_id the config names, so that a crafted archive cannot attach other
 * bytes to a known layer (a later push or save would send them). Refused blobs are removed.
 */
async function checkDiffId(store: LocalStore, node: BlobNode, diffId: string): Promise<void> {
  const digest = Digest.parse(node.desc.digest);
  const { head, stream } = await peek(await store.content.reader(digest), 4);
  const hasher = digestTransform("sha256");
  hasher.resume();
  await pipeline(stream, decompressStream(detectCompression(head)), hasher);
  const actual = hasher.digester.digest().toString();
  if (actual !== diffId) {
    await store.content.delete(digest);
    throw new DiffIdMismatchError(diffId, actual, node.desc.digest);
  }
}

export interface LocalSourceOptions {
  /** Layers the store holds only as plain tars (from a docker-archive) are compressed so before they go. */
  compression?: "gzip" | "zstd";
}

/**
 * The local store as an image source (push, save). A name resolves to its image and the
 * manifest it was pulled or loaded with, sent unchanged (no recompression, the same digest on
 * the other side) when every blob it names is in the content store; otherwise a new OCI
 * manifest is made over the layers' stored blobs, plain tars compressed first when asked.
 */
export class LocalStoreSource implements ImageSource {
  readonly description: string;

  constructor(
    private readonly store: LocalStore,
    private readonly opts: LocalSourceOptions = {},
  ) {
    this.description = `local store ${store.root}`;
  }

  async resolve(input: string): Promise<FetchedManifest> {
    const { imageId, reference } = resolveLocalImage(this.store.db, input);
    const preferred =
      reference?.tag && !reference.digest
        ? this.store.db.tagManifest(`${reference.registry}/${reference.repository}`, reference.tag)
        : undefined;
    return this.manifestFor(imageId, preferred);
  }

  async manifest(desc: Descriptor): Promise<FetchedManifest> {
    const bytes = await this.store.content.readAll(Digest.parse(desc.digest));
    verifyBytes(desc, bytes, "manifest");
    return { descriptor: desc, bytes, parsed: parseManifest(bytes, desc.mediaType) };
  }

  async blob(desc: Descriptor, opts: BlobReadOptions = {}): Promise<BlobStream> {
    const digest = Digest.parse(desc.digest);
    const offset = opts.offset ?? 0;
    if (!(await this.store.content.has(digest))) throw new BlobNotFoundError(desc.digest);
    const stream = opts.reusedBuffers
      ? this.store.content.chunks(digest, offset)
      : ((await this.store.content.reader(digest, offset)) as AsyncIterable<Buffer>);
    return { stream, offset };
  }

  private async manifestFor(imageId: string, preferred?: string): Promise<FetchedManifest> {
    const { db, content } = this.store;
    const records = db
      .manifestsOf(imageId)
      .sort((a, b) => Number(b.digest === preferred) - Number(a.digest === preferred));
    for (const record of records) {
      const digest = Digest.parse(record.digest);
      if (!(await content.has(digest))) continue;
      const bytes = await content.readAll(digest);
      const parsed = parseManifest(bytes, record.mediaType);
      if (parsed.kind !== "manifest") continue;
      const present = await Promise.all(children(parsed).map((d) => content.has(Digest.parse(d.digest))));
      if (present.every(Boolean)) {
        return {
          descriptor: { mediaType: parsed.mediaType, digest: record.digest, size: bytes.length },
          bytes,
          parsed,
        };
      }
    }
    const configBytes = await content.readAll(Digest.parse(imageId));
    const config = parseImageConfig(configBytes);
    const layers: Descriptor[] = [];
    for (const diffId of config.rootfs.diff_ids) {
      const present: LayerBlob[] = [];
      for (const b of db.layerBlobs(diffId)) if (await content.has(Digest.parse(b.digest))) present.push(b);
      const want = this.opts.compression;
      // The asked-for compression if a blob has it, else the plain tar (to compress), else any.
      let blob =
        present.find((b) => !want || layerCompression(b.mediaType) === want) ??
        present.find((b) => layerCompression(b.mediaType) === "none") ??
        present[0];
      if (!blob) {
        throw new InvalidImageError(
          `layer ${diffId} of image ${imageId} has no blob in the content store (it exists only unpacked): it cannot be sent`,
        );
      }
      if (want && layerCompression(blob.mediaType) === "none") blob = await this.compress(blob, want);
      layers.push({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.OCI_MANIFEST,
      config: { mediaType: MediaTypes.OCI_CONFIG, digest: imageId, size: configBytes.length },
      layers,
    };
    // Not recorded as the image's manifest: it is made again for each push, so that
    // --compression is honoured every time.
    const bytes = Buffer.from(JSON.stringify(manifest));
    const parsed = parseManifest(bytes, MediaTypes.OCI_MANIFEST);
    return {
      descriptor: {
        mediaType: MediaTypes.OCI_MANIFEST,
        digest: digestOf(bytes).toString(),
        size: bytes.length,
      },
      bytes,
      parsed,
    };
  }

  /** Compresses a plain-tar layer blob into a new blob, recorded as a form of the same diff_id. */
  private async compress(blob: LayerBlob, kind: "gzip" | "zstd"): Promise<LayerBlob> {
    const source = (await this.store.content.reader(Digest.parse(blob.digest))).pipe(compressStream(kind));
    const { digest, size } = await this.store.content.writeNew(source);
    const compressed: LayerBlob = {
      diffId: blob.diffId,
      digest: digest.toString(),
      mediaType: kind === "gzip" ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_ZSTD,
      size,
    };
    this.store.db.write(() => this.store.db.addLayerBlob(compressed));
    return compressed;
  }
}
