import { Readable } from "node:stream";
import type { ImageSink } from "../content/source.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import type { LocalStore } from "./local-store.js";
import { mapLimit, type ProgressListener, shortId } from "./progress.js";

export interface ExportOptions {
  concurrency?: number;
  onProgress?: ProgressListener;
  /** The manifest to send when the image has several (the one its tag was pulled with). */
  manifest?: string;
  /** Repositories of the sink's registry known to hold a blob, for cross-repository mounts. */
  mountSources?: (digest: string) => string[];
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
  const { manifest, bytes, mediaType } = await manifestFor(store, imageId, opts.manifest);
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
    const how = await sink.putBlob(desc.digest, desc.size, () => store.content.reader(digest), from);
    if (isLayer) {
      report(how === "mounted" ? { id, status: "Mounted from", detail: from } : { id, status: "Pushed" });
    }
  });
  const digest = await sink.putManifest(tag, bytes, mediaType);
  return { digest, size: bytes.length, mediaType, blobs: blobs.map((b) => b.digest) };
}

/**
 * The manifest to send for an image: the one it was pulled or loaded with when every blob it
 * names is in the content store, otherwise a new OCI manifest over the layers' compressed blobs.
 */
async function manifestFor(
  store: LocalStore,
  imageId: string,
  preferred?: string,
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
    const blob = (
      await Promise.all(
        store.db
          .layerBlobs(diffId)
          .map(async (b) => ((await store.content.has(Digest.parse(b.digest))) ? b : undefined)),
      )
    ).find((b) => b !== undefined);
    if (!blob) {
      throw new Error(
        `layer ${diffId} of image ${imageId} has no compressed blob in the content store; it cannot be pushed yet`,
      );
    }
    layers.push({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_MANIFEST,
    config: { mediaType: MediaTypes.OCI_CONFIG, digest: imageId, size: configBytes.length },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  await store.content.write({ digest: digestOf(bytes) }, Readable.from([bytes]));
  store.db.write(() =>
    store.db.addManifest({
      digest: digestOf(bytes).toString(),
      mediaType: MediaTypes.OCI_MANIFEST,
      size: bytes.length,
      imageId,
    }),
  );
  return { manifest, bytes, mediaType: MediaTypes.OCI_MANIFEST };
}
