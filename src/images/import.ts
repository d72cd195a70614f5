import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ImageSource } from "../content/source.js";
import { BerthError } from "../errors.js";
import { decompressStream, detectCompression, peek } from "../layer/compression.js";
import { DiffIdMismatchError } from "../layer/errors.js";
import { unpackLayer } from "../layer/unpack.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, digestTransform } from "../oci/digest.js";
import { type ImageIndex, type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import {
  formatPlatform,
  hostPlatform,
  type Platform,
  platformMatches,
  selectManifest,
} from "../oci/platform.js";
import type { Reference } from "../oci/reference.js";
import { chainIds } from "./chain.js";
import type { LayerBlob, LayerRecord } from "./db.js";
import type { LocalStore } from "./local-store.js";
import { mapLimit, type ProgressListener, shortId } from "./progress.js";

export interface ImportOptions {
  platform?: Platform;
  /** Layers downloaded at once (Docker's max-concurrent-downloads). */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Remember that the blobs exist in ref's repository (for cross-repository mounts on push). */
  recordSource?: boolean;
  /** Copy a compressed layer into the content store even when its unpacked layer exists, so the
   * image can later be pushed or saved with its own manifest (cheap for archives; a pull skips it). */
  keepBlobs?: boolean;
  /** Record the manifests for later pushes and saves (not for one made up for a docker-archive). */
  recordManifests?: boolean;
  /** Record ref's repository and the digest as a repo digest (a pull does; a load does not). */
  repoDigest?: boolean;
}

export interface ImportResult {
  /** The digest the reference resolved to (an index's own digest for a multi-platform image). */
  digest: string;
  imageId: string;
  /** Nothing new was downloaded and the tag already pointed at this image. */
  upToDate: boolean;
  /** The image manifest (the platform's, for an index). */
  manifest: string;
}

export class PlatformNotFoundError extends BerthError {
  override readonly name = "PlatformNotFoundError";
  override readonly code = "PLATFORM_NOT_FOUND";
  constructor(
    readonly wanted: Platform,
    readonly available: Platform[],
  ) {
    super(
      `no matching manifest for ${formatPlatform(wanted)} in the manifest list entries; available: ${
        available.map(formatPlatform).join(", ") || "none"
      }`,
    );
  }
}

/**
 * Brings one image from a source (a registry when pulling, an archive when loading) into the
 * local store: resolve the reference (choosing a platform from an
 * index), fetch and verify the config, then each layer not already present — downloaded into the
 * content store (resuming a partial download), unpacked once into its chain-ID directory with its
 * diff_id checked — and finally record the image, its tag and repo digest in one transaction.
 */
export async function importImage(
  store: LocalStore,
  repo: ImageSource,
  ref: Reference,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const report = opts.onProgress ?? (() => {});
  const top = await repo.getManifest(ref.digest?.toString() ?? ref.tag ?? "latest");
  const manifests = [{ digest: top.digest.toString(), mediaType: top.mediaType, bytes: top.bytes }];
  let parsed = parseManifest(top.bytes, top.mediaType);
  let manifestDigest = top.digest.toString();
  if (parsed.kind === "index") {
    const index = parsed.value as ImageIndex;
    const wanted = opts.platform ?? hostPlatform();
    const choice = selectManifest(index, wanted);
    if (!choice) {
      throw new PlatformNotFoundError(
        wanted,
        index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])),
      );
    }
    const child = await repo.getManifest(choice.digest);
    parsed = parseManifest(child.bytes, child.mediaType);
    if (parsed.kind !== "manifest") throw new Error(`nested index ${choice.digest} is not supported`);
    manifestDigest = child.digest.toString();
    manifests.push({ digest: manifestDigest, mediaType: child.mediaType, bytes: child.bytes });
  }
  const manifest = parsed.value as ImageManifest;

  const configDigest = Digest.parse(manifest.config.digest);
  await fetchBlob(store, repo, manifest.config);
  const configBytes = await store.content.readAll(configDigest);
  const config = parseImageConfig(configBytes);
  if (opts.platform && parsed.kind === "manifest" && manifests.length === 1) {
    const have: Platform = { os: config.os, architecture: config.architecture, variant: config.variant };
    if (!platformMatches(opts.platform, have)) {
      throw new PlatformNotFoundError(opts.platform, [have]);
    }
  }
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new Error(
      `image config lists ${diffIds.length} diff_ids but the manifest has ${manifest.layers.length} layers`,
    );
  }
  for (const m of manifests)
    await store.content.write({ digest: Digest.parse(m.digest) }, Readable.from([m.bytes]));

  const chains = chainIds(diffIds);
  let downloaded = 0;
  const pending = manifest.layers.map((layer, i) => {
    const chainId = chains[i]!;
    const present = store.db.layer(chainId) && existsSync(store.layerDiffDir(chainId));
    report({ id: shortId(layer.digest), status: present ? "Already exists" : "Pulling fs layer" });
    return { layer, index: i, chainId, present };
  });
  for (const p of pending) if (!p.present) report({ id: shortId(p.layer.digest), status: "Waiting" });

  const layerRecords: LayerRecord[] = [];
  const layerBlobs: LayerBlob[] = [];
  let size = 0;
  await mapLimit(pending, opts.concurrency ?? 3, async ({ layer, index, chainId, present }) => {
    const id = shortId(layer.digest);
    let record = present ? store.db.layer(chainId) : undefined;
    if (record && opts.keepBlobs && (await fetchBlob(store, repo, layer))) {
      await checkDiffId(store, layer, diffIds[index]!);
    }
    if (!record) {
      if (await fetchBlob(store, repo, layer, report)) downloaded++;
      report({ id, status: "Extracting", current: 0, total: layer.size });
      const result = await unpackInto(store, layer, chainId, diffIds[index]!);
      record = {
        chainId,
        diffId: diffIds[index]!,
        parent: index > 0 ? chains[index - 1]! : null,
        size: result.size,
      };
      store.db.write(() => store.db.addLayer(record!));
      report({ id, status: "Pull complete" });
    }
    layerRecords[index] = record;
    layerBlobs.push({
      diffId: diffIds[index]!,
      digest: layer.digest,
      mediaType: layer.mediaType,
      size: layer.size,
    });
  });
  for (const r of layerRecords) size += r.size;

  const imageId = configDigest.toString();
  const repository = `${ref.registry}/${ref.repository}`;
  const previous = ref.tag ? store.db.tagged(repository, ref.tag) : undefined;
  const known = store.db.image(imageId);
  store.db.addImage({
    image: {
      id: imageId,
      configSize: configBytes.length,
      created: config.created ?? null,
      os: config.os,
      architecture: config.architecture,
      variant: config.variant ?? null,
      size,
      parent: null,
    },
    layers: layerRecords,
    layerBlobs,
    manifests: (opts.recordManifests === false ? [] : manifests).map((m) => ({
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.bytes.length,
      imageId: m.digest === manifestDigest ? imageId : null,
    })),
    tag: ref.tag && !ref.digest ? { repository, tag: ref.tag, manifest: manifestDigest } : undefined,
    repoDigest: opts.repoDigest === false ? undefined : { repository, digest: top.digest.toString() },
    blobSources: opts.recordSource
      ? [manifest.config, ...manifest.layers].map((d) => ({
          digest: d.digest,
          registry: ref.registry,
          repository: ref.repository,
        }))
      : [],
  });
  return {
    digest: top.digest.toString(),
    imageId,
    manifest: manifestDigest,
    upToDate: downloaded === 0 && known !== undefined && (ref.digest !== undefined || previous === imageId),
  };
}

/**
 * Downloads a blob into the content store unless it is there, resuming a partial download
 * with a Range request. Returns whether anything was downloaded.
 */
async function fetchBlob(
  store: LocalStore,
  repo: ImageSource,
  desc: Descriptor,
  report: ProgressListener = () => {},
): Promise<boolean> {
  const digest = Digest.parse(desc.digest);
  const id = shortId(desc.digest);
  const ingest = await store.content.ingest({ digest, size: desc.size });
  if (!ingest) {
    report({ id, status: "Download complete" });
    return false;
  }
  try {
    const blob = await repo.getBlob(desc.digest, ingest.offset);
    if (blob.offset !== ingest.offset) await ingest.truncate();
    let current = ingest.offset;
    let lastReport = 0;
    for await (const chunk of blob.stream) {
      await ingest.write(chunk as Buffer);
      current += (chunk as Buffer).length;
      const now = Date.now();
      if (now - lastReport > 100) {
        lastReport = now;
        report({ id, status: "Downloading", current, total: desc.size });
      }
    }
    report({ id, status: "Verifying Checksum" });
    await ingest.commit();
  } catch (err) {
    // Releases the lock (and keeps what arrived, for a resume); after a failed commit there is nothing left to keep.
    await ingest.close();
    throw err;
  }
  report({ id, status: "Download complete" });
  return true;
}

/**
 * A blob kept for a layer that is already unpacked was never unpacked itself: check that it
 * decompresses to the diff_id the config names, so that a crafted archive cannot attach other
 * bytes to a known layer (a later push or save would send them). Refused blobs are removed.
 */
async function checkDiffId(store: LocalStore, layer: Descriptor, diffId: string): Promise<void> {
  const digest = Digest.parse(layer.digest);
  const { head, stream } = await peek(await store.content.reader(digest), 4);
  const hasher = digestTransform("sha256");
  hasher.resume();
  await pipeline(stream, decompressStream(detectCompression(head)), hasher);
  const actual = hasher.digester.digest().toString();
  if (actual !== diffId) {
    await store.content.delete(digest);
    throw new DiffIdMismatchError(diffId, actual);
  }
}

/** Unpacks a layer blob into a temporary directory, then renames it to its chain-ID directory. */
async function unpackInto(
  store: LocalStore,
  layer: Descriptor,
  chainId: string,
  diffId: string,
): Promise<{ size: number }> {
  await mkdir(store.tmpDir(), { recursive: true });
  const tmp = await mkdtemp(join(store.tmpDir(), "unpack-"));
  try {
    const diff = join(tmp, "diff");
    await mkdir(diff);
    const result = await unpackLayer({
      // Small reads: zlib decompresses each chunk whole before backpressure applies, so a 1 MiB
      // chunk of a text-heavy layer became ~5 MiB held per layer in flight.
      source: await store.content.reader(Digest.parse(layer.digest), 0, 128 * 1024),
      dest: diff,
      expectedDiffId: diffId,
      mediaType: layer.mediaType,
    });
    const final = store.layerDir(chainId);
    await mkdir(dirname(final), { recursive: true });
    try {
      await rename(tmp, final);
    } catch (err) {
      // Another berth process unpacked the same layer first: theirs is as good as ours.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    }
    return { size: result.size };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
