import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";

/**
 * Anything images can be read from — a registry repository, an OCI layout, a docker-archive —
 * so that pull and load (and copy) are the same walk over manifests and blobs.
 */
export interface ImageSource {
  /** For messages and for recording where blobs came from. */
  readonly description: string;
  /** A manifest or index by tag or digest; its digest is computed from the bytes and, when fetched by digest, verified. */
  getManifest(reference: string): Promise<SourceManifest>;
  /** A blob by digest, from `offset` if the source can resume (else from 0: check `offset`). */
  getBlob(digest: string, offset?: number): Promise<SourceBlob>;
}

export interface SourceManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface SourceBlob {
  stream: Readable;
  offset: number;
  length: number;
}

/**
 * Opens the bytes of a blob to send. A sink that writes each chunk out before it takes the next
 * (an HTTP request body) may ask for `reusedBuffers`: the chunks may then come from a few
 * buffers filled in turn (ContentStore.chunks says how long each stays valid). Sinks that queue
 * chunks, as a tar entry does, must not ask for it.
 */
export type OpenBlob = (opts?: { reusedBuffers?: boolean }) => Promise<AsyncIterable<Buffer>>;

/** Anything images can be written to: a registry repository (push), an archive (save). */
export interface ImageSink {
  readonly description: string;
  /** Whether the sink already has the blob (then it is not sent again). */
  hasBlob(digest: string): Promise<boolean>;
  /**
   * Sends a blob. `mountFrom` names another repository of the same registry known to hold it,
   * for a cross-repository mount; sinks that cannot mount ignore it.
   */
  putBlob(digest: string, size: number, open: OpenBlob, mountFrom?: string): Promise<"mounted" | "pushed">;
  /** Stores a manifest under a tag (or under its digest when tag is undefined); returns its digest. */
  putManifest(tag: string | undefined, bytes: Buffer, mediaType: string): Promise<string>;
}
