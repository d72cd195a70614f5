import type { ImageSink, OpenBlob } from "../content/source.js";
import { compressStream } from "../layer/compression.js";
import { Digest } from "../oci/digest.js";
import { type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { layerCompression, MediaTypes } from "../oci/media-types.js";
import type { LayerBlob } from "./db.js";
import type { LocalStore } from "./local-store.js";
import { mapLimit, type ProgressListener, shortId } from "./progress.js";

export interface ExportOptions {
  concurrency?: number;
  onProgress?: ProgressListener;
  /**
   * Compress layers the store holds only as plain tars (from a docker-archive) before sending
   * them; without it blobs go as they are (save).
   */
  compression?: "gzip" | "zstd";
  /** The manifest to send when the image has several (the one its tag was pulled with). */
  manifest?: string;
  /** Repositories of the sink's registry known to hold a blob, for cross-repository mounts. */
  mountSources?: (digest: string) => string[];
}

/** Compresses a plain-tar layer blob into a new blob and records it as a form of the same diff_id. */
async function compressLayer(store: LocalStore, blob: LayerBlob, kind: "gzip" | "zstd"): Promise<LayerBlob> {
  const source = (await store.content.reader(Digest.parse(blob.digest))).pipe(compressStream(kind));
  const { digest, size } = await store.content.writeNew(source);
  const compressed: LayerBlob = {
    diffId: blob.diffId,
    digest: digest.toString(),
    mediaType: kind === "gzip" ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_ZSTD,
    size,
  };
  store.db.write(() => store.db.addLayerBlob(compressed));
  return compressed;
}

export interface ExportResult {
  digest: string;
  size: number;
  mediaType: string;
  /** Digests of the config and layers the sink now holds. */
  blobs: string[];
}

/**
 * Sends one local image to a sink (a registry when pushing): its layers and config, skipping
 * what the sink has and mounting what another repository of the registry has, then its
 * manifest. An image that was pulled is pushed with the manifest and compressed blobs it came
 * with, unchanged, so its digest is the same on the other side.
 */
export async function exportImage(
  store: LocalStore,
  sink: ImageSink,
  imageId: string,
  tag: string | undefined,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const report = opts.onProgress ?? (() => {});
  const { manifest, bytes, mediaType } = await manifestFor(store, imageId, opts.manifest, opts.compression);
  const blobs = [...manifest.layers, manifest.config];
  for (const layer of manifest.layers) report({ id: shortId(layer.digest), status: "Preparing" });
  await mapLimit(blobs, opts.concurrency ?? 5, async (desc) => {
    const id = shortId(desc.digest);
    const isLayer = desc !== manifest.config;
    if (await sink.hasBlob(desc.digest)) {
      if (isLayer) report({ id, status: "Layer already exists" });
      return;
    }
    const digest = Digest.parse(desc.digest);
    const from = opts.mountSources?.(desc.digest)[0];
    if (isLayer) report({ id, status: "Pushing", current: 0, total: desc.size });
    const open: OpenBlob = async (o) =>
      o?.reusedBuffers ? store.content.chunks(digest) : store.content.reader(digest);
    const how = await sink.putBlob(desc.digest, desc.size, open, from);
    if (isLayer) {
      report(how === "mounted" ? { id, status: "Mounted from", detail: from } : { id, status: "Pushed" });
    }
  });
  const digest = await sink.putManifest(tag, bytes, mediaType);
  return { digest, size: bytes.length, mediaType, blobs: blobs.map((b) => b.digest) };
}

/**
 * The manifest to send for an image: the one it was pulled or loaded with when every blob it
 * names is in the content store (sent unchanged, no recompression), otherwise a new OCI
 * manifest over the layers' blobs, plain-tar layers compressed first when asked to.
 */
async function manifestFor(
  store: LocalStore,
  imageId: string,
  preferred?: string,
  compression?: "gzip" | "zstd",
): Promise<{ manifest: ImageManifest; bytes: Buffer; mediaType: string }> {
  const records = store.db
    .manifestsOf(imageId)
    .sort((a, b) => Number(b.digest === preferred) - Number(a.digest === preferred));
  for (const record of records) {
    const digest = Digest.parse(record.digest);
    if (!(await store.content.has(digest))) continue;
    const bytes = await store.content.readAll(digest);
    const parsed = parseManifest(bytes, record.mediaType);
    if (parsed.kind !== "manifest") continue;
    const manifest = parsed.value as ImageManifest;
    const present = await Promise.all(
      [manifest.config, ...manifest.layers].map((d) => store.content.has(Digest.parse(d.digest))),
    );
    if (present.every(Boolean)) return { manifest, bytes, mediaType: parsed.mediaType };
  }
  const configDigest = Digest.parse(imageId);
  const configBytes = await store.content.readAll(configDigest);
  const config = parseImageConfig(configBytes);
  const layers = [];
  for (const diffId of config.rootfs.diff_ids) {
    const present = (
      await Promise.all(
        store.db
          .layerBlobs(diffId)
          .map(async (b) => ((await store.content.has(Digest.parse(b.digest))) ? b : undefined)),
      )
    ).filter((b) => b !== undefined);
    // The asked-for compression if a blob has it, else the plain tar (to compress), else any.
    let blob =
      present.find((b) => !compression || layerCompression(b.mediaType) === compression) ??
      present.find((b) => layerCompression(b.mediaType) === "none") ??
      present[0];
    if (!blob) {
      throw new Error(
        `layer ${diffId} of image ${imageId} has no blob in the content store (it exists only unpacked); it cannot be pushed yet`,
      );
    }
    if (compression && layerCompression(blob.mediaType) === "none")
      blob = await compressLayer(store, blob, compression);
    layers.push({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_MANIFEST,
    config: { mediaType: MediaTypes.OCI_CONFIG, digest: imageId, size: configBytes.length },
    layers,
  };
  // Not recorded as the image's manifest: it is rebuilt (from recorded layer blobs) for each
  // push, so that --compression is honoured every time.
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, bytes, mediaType: MediaTypes.OCI_MANIFEST };
}
