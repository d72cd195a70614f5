import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { BerthError } from "../errors.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ImageManifest, parseImageConfig } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import type { LayerBlob, LayerRecord } from "./db.js";
import type { LocalStore } from "./local-store.js";

/**
 * Recording images made on this machine (a build, a container commit) rather than pulled: a
 * layer goes in once its directory and blob exist, and an image once all of its layers do, in
 * one transaction, so a crash leaves either the whole image or none of it.
 */

export class CommitError extends BerthError {
  override readonly name = "CommitError";
  override readonly code = "COMMIT";
}

export interface NewLayer {
  /** A directory on the store's filesystem holding the unpacked layer as `diff/` (it is moved). */
  dir: string;
  diffId: string;
  /** Chain ID of the layer below, null for the first. */
  parent: string | null;
  /** The layer's size as Docker counts it: file contents and symlink targets (layer/size.ts). */
  size: number;
  /** The compressed blob, already in the content store. */
  blob: { digest: string; mediaType: string; size: number };
}

export function chainIdOf(parent: string | null, diffId: string): string {
  return parent === null ? diffId : digestOf(`${parent} ${diffId}`).toString();
}

/**
 * Moves a layer's directory to ROOT/layers/<chain id> and records the layer and its blob. If
 * the same layer is there already (the same diff on the same parent), that one is kept.
 */
export async function recordLayer(store: LocalStore, layer: NewLayer): Promise<LayerRecord> {
  const chainId = chainIdOf(layer.parent, layer.diffId);
  const final = store.layerDir(chainId);
  if (existsSync(store.layerDiffDir(chainId))) {
    await rm(layer.dir, { recursive: true, force: true });
  } else {
    await mkdir(dirname(final), { recursive: true });
    try {
      await rename(layer.dir, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await rm(layer.dir, { recursive: true, force: true });
    }
  }
  const record: LayerRecord = { chainId, diffId: layer.diffId, parent: layer.parent, size: layer.size };
  store.db.write(() => {
    store.db.addLayer(record);
    store.db.addLayerBlob({ diffId: layer.diffId, ...layer.blob });
  });
  return record;
}

export interface CommitImage {
  /** The image config's bytes: its digest is the image ID. */
  config: Buffer;
  /** The image's layers, bottom first, each recorded already, with the blob the manifest lists. */
  layers: { record: LayerRecord; blob: LayerBlob }[];
  tags?: { repository: string; tag: string }[];
  /** Docker's local parent image, when it is in the store. */
  parent?: string | null;
}

export interface CommittedImage {
  imageId: string;
  manifestDigest: string;
  manifest: Buffer;
}

/** The OCI manifest of an image made here: its config and its layers' blobs, in order. */
export function imageManifest(config: Buffer, layers: { blob: LayerBlob }[]): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_MANIFEST,
    config: { mediaType: MediaTypes.OCI_CONFIG, digest: digestOf(config).toString(), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size })),
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Writes the config and an OCI manifest into the content store, then records the image, its
 * manifest and its tags in one transaction. Every layer must still be there (directory and
 * blob): a layer removed meanwhile fails the commit instead of recording a broken image.
 */
export async function commitImage(store: LocalStore, image: CommitImage): Promise<CommittedImage> {
  const config = parseImageConfig(image.config);
  const configDigest = digestOf(image.config);
  if (config.rootfs.diff_ids.length !== image.layers.length)
    throw new CommitError(
      `the config lists ${config.rootfs.diff_ids.length} layers but ${image.layers.length} were given`,
    );
  image.layers.forEach((l, i) => {
    if (l.record.diffId !== config.rootfs.diff_ids[i])
      throw new CommitError(`layer ${i} is ${l.record.diffId}, the config says ${config.rootfs.diff_ids[i]}`);
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OCI_MANIFEST,
    config: { mediaType: MediaTypes.OCI_CONFIG, digest: configDigest.toString(), size: image.config.length },
    layers: image.layers.map((l) => ({
      mediaType: l.blob.mediaType,
      digest: l.blob.digest,
      size: l.blob.size,
    })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = digestOf(manifestBytes);
  for (const [digest, bytes] of [
    [configDigest, image.config],
    [manifestDigest, manifestBytes],
  ] as const) {
    if (!(await store.content.has(digest)))
      await store.content.write({ digest, size: bytes.length }, Readable.from([bytes]));
  }
  for (const l of image.layers) {
    if (!existsSync(store.layerDiffDir(l.record.chainId)))
      throw new CommitError(
        `layer ${l.record.chainId} was removed from the store while the image was being made`,
      );
    if (!(await store.content.has(Digest.parse(l.blob.digest))))
      throw new CommitError(
        `the blob ${l.blob.digest} of layer ${l.record.diffId} was removed from the store`,
      );
  }
  const imageId = configDigest.toString();
  const [first, ...more] = image.tags ?? [];
  store.db.write(() => {
    store.db.addImage({
      image: {
        id: imageId,
        configSize: image.config.length,
        created: config.created ?? null,
        os: config.os,
        architecture: config.architecture,
        variant: config.variant ?? null,
        size: image.layers.reduce((n, l) => n + l.record.size, 0),
        parent: image.parent ?? null,
      },
      layers: image.layers.map((l) => l.record),
      layerBlobs: image.layers.map((l) => l.blob),
      manifests: [
        {
          digest: manifestDigest.toString(),
          mediaType: MediaTypes.OCI_MANIFEST,
          size: manifestBytes.length,
          imageId,
        },
      ],
      ...(first ? { tag: { ...first, manifest: manifestDigest.toString() } } : {}),
    });
    for (const t of more) store.db.setTag(t.repository, t.tag, imageId, manifestDigest.toString());
  });
  return { imageId, manifestDigest: manifestDigest.toString(), manifest: manifestBytes };
}
