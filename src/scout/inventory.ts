import { mkdtemp, rm } from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest, Digester } from "../oci/digest.js";
import { type ImageConfig, type ParsedImageManifest, parseImageConfig } from "../oci/manifest.js";
import { formatPlatform, hostPlatform, type Platform, selectManifest } from "../oci/platform.js";
import { Semaphore } from "../transfer/semaphore.js";
import type { FetchedManifest, ImageSource } from "../transfer/types.js";
import type { LayerCache } from "./cache.js";
import { ScanError } from "./errors.js";
import type { AnalyzeOptions, Limits } from "./layer-analyzer.js";
import { mergeLayers } from "./merge.js";
import type { Inventory, LayerAnalysis, LayerRef } from "./model.js";

export interface InventoryOptions {
  /** Analyses by diff_id; without one every layer is read. */
  cache?: LayerCache;
  /** Where a private directory for spooled files is made. */
  tmpRoot: string;
  /** The platform of an index to scan (default: this machine's). */
  platform?: Platform;
  /** Layers read at once. */
  concurrency?: number;
  limits?: Partial<Limits>;
}

/** The image a reference names in a source: its manifest (one platform of an index) and config. */
export interface ResolvedImage {
  manifest: FetchedManifest & { parsed: ParsedImageManifest };
  config: ImageConfig;
  configDigest: string;
}

const CONFIG_LIMIT = 16 * 1024 * 1024;

async function readSmallBlob(source: ImageSource, desc: Descriptor, what: string): Promise<Buffer> {
  if (desc.size > CONFIG_LIMIT)
    throw new ScanError(`the ${what} ${desc.digest} is larger than ${CONFIG_LIMIT} bytes`);
  const { stream } = await source.blob(desc);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > CONFIG_LIMIT)
      throw new ScanError(`the ${what} ${desc.digest} is larger than ${CONFIG_LIMIT} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  const digest = Digest.parse(desc.digest);
  const got = new Digester(digest.algorithm).update(bytes).digest().toString();
  if (got !== desc.digest) throw new ScanError(`the ${what} ${desc.digest} has digest ${got}`);
  return bytes;
}

export async function resolveImage(
  source: ImageSource,
  reference: string,
  platform?: Platform,
): Promise<ResolvedImage> {
  let m = await source.resolve(reference);
  for (let depth = 0; m.parsed.kind === "index"; depth++) {
    const want = platform ?? hostPlatform();
    const desc = selectManifest(m.parsed.value, want);
    if (!desc || depth > 4) throw new ScanError(`${reference} has no image for ${formatPlatform(want)}`);
    m = await source.manifest(desc);
  }
  const manifest = m as FetchedManifest & { parsed: ParsedImageManifest };
  const configDesc = manifest.parsed.value.config;
  let config: ImageConfig;
  try {
    config = parseImageConfig(await readSmallBlob(source, configDesc, "image config"));
  } catch (err) {
    if (err instanceof ScanError) throw err;
    throw new ScanError(
      `${reference} is not a container image (its config ${configDesc.mediaType} cannot be read as one): ${(err as Error).message}`,
    );
  }
  if (config.rootfs.diff_ids.length !== manifest.parsed.value.layers.length) {
    throw new ScanError(
      `${reference}: the config lists ${config.rootfs.diff_ids.length} layers, the manifest ${manifest.parsed.value.layers.length}`,
    );
  }
  return { manifest, config, configDigest: configDesc.digest };
}

/** Each layer with its diff_id and the history line that made it (history entries of empty layers skipped). */
export function layerRefs(image: ResolvedImage): LayerRef[] {
  const history = (image.config.history ?? []).filter((h) => !h.empty_layer);
  return image.manifest.parsed.value.layers.map((desc, index) => ({
    index,
    digest: desc.digest,
    diffId: image.config.rootfs.diff_ids[index]!,
    createdBy: history[index]?.created_by,
  }));
}

/**
 * A layer's uncompressed tar as chunks, its blob hashed as it arrives and its tar hashed as it is
 * decompressed: an analysis is kept under a diff_id only when the bytes read are that diff_id's.
 */
async function* layerTar(source: ImageSource, desc: Descriptor, diffId: string): AsyncGenerator<Buffer> {
  const blobDigest = Digest.parse(desc.digest);
  const tarDigest = Digest.parse(diffId);
  const blobHash = new Digester(blobDigest.algorithm);
  const tarHash = new Digester(tarDigest.algorithm);
  const { decompressStream, detectCompression, peek } = await import("../layer/compression.js");
  const { stream } = await source.blob(desc);
  const hashed = Readable.from(
    (async function* () {
      for await (const chunk of stream) {
        blobHash.update(chunk);
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
  const { head, stream: input } = await peek(hashed, 4);
  const kind = detectCompression(head);
  const tar = kind === "none" ? input : pipeline(input, decompressStream(kind), () => {});
  for await (const chunk of tar as AsyncIterable<Buffer>) {
    tarHash.update(chunk);
    yield chunk;
  }
  if (blobHash.digest().toString() !== desc.digest)
    throw new ScanError(`layer ${desc.digest} was read with digest ${blobHash.digest()}`);
  if (tarHash.digest().toString() !== diffId)
    throw new ScanError(
      `layer ${desc.digest} decompresses to ${tarHash.digest()}, not its diff_id ${diffId}`,
    );
}

async function analyzeLayer(
  source: ImageSource,
  desc: Descriptor,
  ref: LayerRef,
  opts: AnalyzeOptions,
): Promise<LayerAnalysis> {
  try {
    // The analysers are loaded only when a layer is not in the cache: a warm scan needs none.
    const { analyzeTar } = await import("./layer-analyzer.js");
    return await analyzeTar(layerTar(source, desc, ref.diffId), opts);
  } catch (err) {
    if (err instanceof ScanError) throw err;
    throw new ScanError(
      `layer ${desc.digest} cannot be read from ${source.description}: ${(err as Error).message}`,
    );
  }
}

/** The inventory of the image `reference` names in `source`, each layer read once and cached by diff_id. */
export async function inventoryImage(
  source: ImageSource,
  reference: string,
  name: string,
  opts: InventoryOptions,
): Promise<Inventory & { image: ResolvedImage }> {
  const image = await resolveImage(source, reference, opts.platform);
  const refs = layerRefs(image);
  const descs = image.manifest.parsed.value.layers;
  const analyses: LayerAnalysis[] = new Array(refs.length);
  let read = 0;
  let cached = 0;
  const tmpDir = await mkdtemp(`${opts.tmpRoot.replace(/\/$/, "")}/scout-${process.pid}-`);
  try {
    const gate = new Semaphore(opts.concurrency ?? 2);
    const inFlight = new Map<string, Promise<LayerAnalysis>>();
    await Promise.all(
      refs.map(async (ref, i) => {
        const hit = opts.cache?.get(ref.diffId);
        if (hit) {
          analyses[i] = hit;
          cached++;
          return;
        }
        // The same layer twice in one image is read once.
        let job = inFlight.get(ref.diffId);
        if (!job) {
          job = (async () => {
            const release = await gate.acquire();
            try {
              const a = await analyzeLayer(source, descs[i]!, ref, { tmpDir, limits: opts.limits });
              opts.cache?.put(ref.diffId, a);
              read++;
              return a;
            } finally {
              release();
            }
          })();
          inFlight.set(ref.diffId, job);
        }
        analyses[i] = await job;
      }),
    );
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  const merged = mergeLayers(analyses, refs);
  const { os, architecture, variant } = image.config;
  return {
    name,
    manifestDigest: image.manifest.descriptor.digest,
    imageId: image.configDigest,
    platform: formatPlatform({ os, architecture, variant }),
    distro: merged.distro,
    layers: refs,
    packages: merged.packages,
    unreadable: merged.unreadable,
    analysed: { read, cached },
    image,
  };
}
