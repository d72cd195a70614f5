import { Readable } from "node:stream";
import { BerthError } from "../errors.js";
import type { Descriptor } from "../oci/descriptor.js";
import { children, parseImageConfig } from "../oci/manifest.js";
import { isIndexMediaType, isNonDistributableMediaType, MediaTypes } from "../oci/media-types.js";
import { type Platform, platformMatches, platformRank } from "../oci/platform.js";
import type { Reference } from "../oci/reference.js";
import {
  BlobTransferError,
  InvalidImageError,
  PlatformMismatchError,
  PlatformNotFoundError,
} from "./errors.js";
import { Semaphore } from "./semaphore.js";
import type {
  BlobNode,
  FetchedManifest,
  ImageContext,
  ImageSink,
  ImageSource,
  OpenBlob,
  TransferEvent,
} from "./types.js";
import { readSmall } from "./verify.js";

export interface TransferOptions {
  /** The tag or digest to read at the source. */
  reference: string;
  /** What the sink calls the image: a tag in a registry, the names a load or pull records. */
  names?: Reference[];
  /** Take one image of an index, chosen as Docker does (nested indexes are searched too). */
  platform?: Platform;
  /** A single-image root must be for `platform` too (pull --platform), else PlatformMismatchError. */
  strictPlatform?: boolean;
  /** The image chosen from an index becomes the root itself (copy --platform); else the index stays the root. */
  unwrap?: boolean;
  /** Blobs in flight at once (Docker's max-concurrent-downloads / -uploads). */
  concurrency?: number;
  onEvent?: (event: TransferEvent) => void;
  /** The reference as the user wrote it, for messages. */
  label?: string;
}

export interface TransferResult<R> {
  /** What the sink received last, as the image's root: the index, or the image manifest. */
  root: FetchedManifest;
  /** The image manifests that were transferred (one when a platform was chosen). */
  images: ImageContext[];
  /** What the sink's commit gave. */
  result: R;
}

const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MediaTypes.OCI_CONFIG, MediaTypes.DOCKER_CONFIG]);

/**
 * Copies what a reference names from a source to a sink, as containerd's images.Walk with
 * Dispatch does: children before parents (so a registry has every blob before the manifest
 * that names it, and every manifest before the index), each blob once, at most `concurrency`
 * blobs at a time, the root committed last under its names. pull, push, save, load and copy are
 * all this walk; only the two ends differ.
 */
export async function transfer<R>(
  source: ImageSource,
  sink: ImageSink<R>,
  opts: TransferOptions,
): Promise<TransferResult<R>> {
  const top = await source.resolve(opts.reference);
  let root = top;
  let route: Map<string, FetchedManifest> | undefined;
  if (opts.platform && top.parsed.kind === "index") {
    const path = await choosePlatform(source, top, opts.platform);
    if (opts.unwrap) root = path.at(-1)!;
    else route = new Map(path.map((m, i) => [(i === 0 ? top : path[i - 1]!).descriptor.digest, m]));
  }
  const walker = new Walker(source, sink, opts, route);
  const strict = opts.strictPlatform && root === top ? opts.platform : undefined;
  await walker.visit(root, true, strict);
  const result = await sink.commit(root, opts.names ?? []);
  return { root, images: walker.images, result };
}

/**
 * The images of an index that serve `want` best (Docker's rule, oci/platform.ts), searched
 * through nested indexes; returns the chain of manifests from the index's child down to the image.
 */
async function choosePlatform(
  source: ImageSource,
  index: FetchedManifest,
  want: Platform,
): Promise<FetchedManifest[]> {
  const seen: Platform[] = [];
  let best: { chain: FetchedManifest[]; desc: Descriptor; rank: number } | undefined;
  const search = async (node: FetchedManifest, chain: FetchedManifest[]): Promise<void> => {
    if (node.parsed.kind !== "index") return;
    for (const desc of node.parsed.value.manifests) {
      if (isIndexMediaType(desc.mediaType)) {
        if (desc.platform && !platformMatches(want, desc.platform)) continue;
        const nested = await source.manifest(desc);
        await search(nested, [...chain, nested]);
        continue;
      }
      if (!desc.platform) continue;
      seen.push(desc.platform);
      const rank = platformRank(want, desc.platform);
      if (rank >= 0 && (!best || rank < best.rank)) best = { chain, desc, rank };
    }
  };
  await search(index, []);
  if (!best) throw new PlatformNotFoundError(want, seen);
  const chosen = best as { chain: FetchedManifest[]; desc: Descriptor };
  const manifest = await source.manifest(chosen.desc);
  return [...chosen.chain, manifest];
}

class Walker<R> {
  readonly images: ImageContext[] = [];
  private readonly blobs = new Map<string, Promise<void>>();
  private readonly manifests = new Map<string, Promise<void>>();
  private readonly slots: Semaphore;
  private failure: unknown;

  constructor(
    private readonly source: ImageSource,
    private readonly sink: ImageSink<R>,
    private readonly opts: TransferOptions,
    /** For a chosen platform: the one child to follow out of each index on the way. */
    private readonly route: Map<string, FetchedManifest> | undefined,
  ) {
    this.slots = new Semaphore(Math.max(1, opts.concurrency ?? 3));
  }

  async visit(node: FetchedManifest, isRoot: boolean, strictPlatform?: Platform): Promise<void> {
    const parsed = node.parsed;
    if (parsed.kind === "index") {
      const next = this.route?.get(node.descriptor.digest);
      const kids = next ? [next.descriptor] : parsed.value.manifests;
      await this.all(
        kids.map((desc) =>
          once(this.manifests, desc.digest, async () =>
            this.visit(next ?? (await this.source.manifest(desc)), false),
          ),
        ),
      );
    } else {
      const image = await this.loadImage(node as ImageContext["manifest"], strictPlatform);
      this.images.push(image);
      const [config, ...layers] = children(parsed);
      const nodes: BlobNode[] = [{ desc: config!, role: "config", image, index: 0 }];
      layers.forEach((desc, index) => {
        if (isForeign(desc) && !this.sink.takesForeignLayers) return;
        nodes.push({ desc, role: "layer", image, index });
      });
      await this.all(nodes.map((b) => this.blob(b)));
    }
    if (!isRoot) await this.sink.putManifest(node);
  }

  /** Fetches and checks an image's config: it names the layers' diff_ids, which sinks verify. */
  private async loadImage(
    manifest: ImageContext["manifest"],
    strictPlatform?: Platform,
  ): Promise<ImageContext> {
    const desc = manifest.parsed.value.config;
    let configBytes: Buffer;
    try {
      configBytes = await readSmall((await this.source.blob(desc)).stream, desc, "image config");
    } catch (err) {
      throw err instanceof BerthError ? new BlobTransferError("config", desc.digest, err) : err;
    }
    const image: ImageContext = { manifest, configBytes };
    if (IMAGE_CONFIG_TYPES.has(desc.mediaType)) {
      const config = parseImageConfig(configBytes);
      const layers = manifest.parsed.value.layers.length;
      if (config.rootfs.diff_ids.length !== layers) {
        throw new InvalidImageError(
          `image config ${desc.digest} lists ${config.rootfs.diff_ids.length} diff_ids but the manifest ${manifest.descriptor.digest} has ${layers} layers`,
        );
      }
      image.config = config;
      if (strictPlatform) {
        const actual: Platform = { os: config.os, architecture: config.architecture };
        if (config.variant) actual.variant = config.variant;
        if (!platformMatches(strictPlatform, actual)) {
          throw new PlatformMismatchError(this.opts.label ?? this.opts.reference, strictPlatform, actual);
        }
      }
    }
    return image;
  }

  private blob(node: BlobNode): Promise<void> {
    const key = this.sink.blobKey?.(node) ?? node.desc.digest;
    return once(this.blobs, key, async () => {
      const emit = (e: Omit<TransferEvent, "digest" | "role">) =>
        this.opts.onEvent?.({ digest: node.desc.digest, role: node.role, ...e });
      // A local store knows at once what it has: those layers are "Already exists", never queued.
      if (this.sink.answersLocally && (await this.sink.has(node))) {
        emit({ phase: "exists" });
        return;
      }
      emit({ phase: "queued", total: node.desc.size });
      const release = await this.slots.acquire(() => emit({ phase: "waiting" }));
      try {
        if (this.failure !== undefined) return;
        if (!this.sink.answersLocally && (await this.sink.has(node))) {
          emit({ phase: "exists" });
          return;
        }
        const open: OpenBlob =
          node.role === "config"
            ? async () => ({ stream: Readable.from([node.image.configBytes]), offset: 0 })
            : (o) => this.source.blob(node.desc, o);
        const how = await this.sink.putBlob(node, open, (phase, current, total, detail) =>
          emit({ phase, current, total: total ?? node.desc.size, detail }),
        );
        if (how === "pushed") emit({ phase: "done" });
      } catch (err) {
        // "blob unknown" or "the download broke off" alone do not say which blob.
        if (err instanceof BerthError && !(err instanceof BlobTransferError)) {
          throw new BlobTransferError(node.role, node.desc.digest, err);
        }
        throw err;
      } finally {
        release();
      }
    });
  }

  /**
   * Waits for every task, then throws the first failure. Tasks that have not started a blob
   * when one fails do not start it: a failed pull stops instead of downloading the rest.
   */
  private async all(tasks: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(
      tasks.map((t) =>
        t.catch((err: unknown) => {
          this.failure ??= err;
          throw err;
        }),
      ),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (this.failure !== undefined) throw this.failure;
  }
}

function once(cache: Map<string, Promise<void>>, key: string, fn: () => Promise<void>): Promise<void> {
  let p = cache.get(key);
  if (!p) {
    p = fn();
    cache.set(key, p);
  }
  return p;
}

/** A layer kept elsewhere (Windows base layers): its descriptor has URLs or a non-distributable type. */
export function isForeign(desc: Descriptor): boolean {
  return (desc.urls !== undefined && desc.urls.length > 0) || isNonDistributableMediaType(desc.mediaType);
}
