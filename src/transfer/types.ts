import type { Descriptor } from "../oci/descriptor.js";
import type { ImageConfig, ParsedImageManifest, ParsedManifest } from "../oci/manifest.js";
import type { Reference } from "../oci/reference.js";

/**
 * The nouns every transfer shares (go-containerregistry's v1 interfaces in spirit): a manifest
 * or index with its bytes, the blobs it points at, and the two ends of a copy. pull, push,
 * save, load and copy are one walk (walk.ts) from an ImageSource into an ImageSink.
 */

/** A manifest or index as fetched: the descriptor it was reached by, its bytes, and their meaning. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: ParsedManifest;
  /**
   * Made up by the source, not published by anyone (a docker-archive has no manifests): worth
   * transferring, not worth keeping as the image's own.
   */
  madeUp?: boolean;
}

export interface BlobReadOptions {
  /** Start here when resuming; a source that cannot seek starts at 0 (check the answer's offset). */
  offset?: number;
  /**
   * The consumer writes each chunk out before it takes the next (an HTTP request body), so
   * chunks may come from a few reused buffers (ContentStore.chunks says how long each stays valid).
   */
  reusedBuffers?: boolean;
}

export interface BlobStream {
  stream: AsyncIterable<Buffer>;
  /** Where the stream really starts. */
  offset: number;
}

/** Opens a blob's bytes; called again, from another offset, to resume. */
export type OpenBlob = (opts?: BlobReadOptions) => Promise<BlobStream>;

/** Anything images are read from: a registry repository, the local store, an OCI layout, a docker-archive. */
export interface ImageSource {
  readonly description: string;
  /** What a tag or digest names here, with its bytes (verified when the reference is a digest). */
  resolve(reference: string): Promise<FetchedManifest>;
  /** A child manifest or index, verified against the descriptor's digest and size. */
  manifest(desc: Descriptor): Promise<FetchedManifest>;
  /** A blob's bytes; the walk's sink verifies them as they arrive. */
  blob(desc: Descriptor, opts?: BlobReadOptions): Promise<BlobStream>;
}

/** The image a blob belongs to, for sinks that need it (the local store unpacks layers by diff_id). */
export interface ImageContext {
  manifest: FetchedManifest & { parsed: ParsedImageManifest };
  configBytes: Buffer;
  /** The image config, when the config blob is one (an artifact's config may be anything). */
  config?: ImageConfig;
}

export interface BlobNode {
  desc: Descriptor;
  role: "config" | "layer";
  image: ImageContext;
  /** The layer's position in the manifest (0 for the config). */
  index: number;
}

/** How far a blob has got, in Docker's terms; the CLI words them for pull or push. */
export type BlobPhase =
  | "queued"
  | "waiting"
  | "exists"
  | "transferring"
  | "verifying"
  | "transferred"
  | "mounted"
  | "unpacking"
  | "done";

export interface TransferEvent {
  digest: string;
  role: BlobNode["role"];
  phase: BlobPhase;
  current?: number;
  total?: number;
  /** For "mounted": the repository the blob was mounted from. */
  detail?: string;
}

/** What a sink reports while it takes a blob: bytes received, or a phase of its own (unpacking). */
export type BlobReporter = (phase: BlobPhase, current?: number, total?: number, detail?: string) => void;

/** Anything images are written to; `R` is what committing an image gives (a digest, an image ID). */
export interface ImageSink<R = unknown> {
  readonly description: string;
  /**
   * Whether foreign (non-distributable) layers are sent here. Registries and archives keep them
   * by reference, as Docker does; the local store needs their bytes to unpack them.
   */
  readonly takesForeignLayers: boolean;
  /** `has` costs nothing (no request): it is asked before a blob is queued, not in its turn. */
  readonly answersLocally?: boolean;
  /** Blobs the walk sends once: the same key means the same work (default: the digest). */
  blobKey?(node: BlobNode): string;
  /** Whether the blob need not be sent: the sink has it (a local store: the layer it stands for). */
  has(node: BlobNode): Promise<boolean>;
  /** Receives a blob, verifying its digest and size; resumes through `open` when it can. */
  putBlob(node: BlobNode, open: OpenBlob, report: BlobReporter): Promise<"pushed" | "mounted">;
  /** Receives a manifest or index below the root, after everything it points at. */
  putManifest(manifest: FetchedManifest): Promise<void>;
  /**
   * Receives the root last, after the whole graph, and makes it visible under its names:
   * a tag in a registry, an image record in the local store, an entry of an archive's index.
   */
  commit(root: FetchedManifest, names: Reference[]): Promise<R>;
}
