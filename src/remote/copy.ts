import type { ImageSink, ImageSource } from "../content/source.js";
import type { Descriptor } from "../oci/descriptor.js";
import { type ImageIndex, type ImageManifest, parseManifest } from "../oci/manifest.js";
import { type Platform, platformMatches } from "../oci/platform.js";

export interface CopyOptions {
  /** Copy only this platform's manifest from an index (else the whole index). */
  platform?: Platform;
  /** A repository of the destination registry that holds the source's blobs, for mounts. */
  mountFrom?: string;
  onBlob?: (digest: string, how: "exists" | "mounted" | "pushed") => void;
}

/**
 * Copies an image (a manifest with its blobs, or an index with every child) from a source to a
 * sink, streaming blobs straight across: nothing touches the local store, and the manifests
 * arrive unchanged, so digests are preserved.
 */
export async function copyImage(
  source: ImageSource,
  sink: ImageSink,
  reference: string,
  tag: string | undefined,
  opts: CopyOptions = {},
): Promise<{ digest: string; mediaType: string; size: number }> {
  const fetched = await source.getManifest(reference);
  const parsed = parseManifest(fetched.bytes, fetched.mediaType);
  if (parsed.kind === "index") {
    const index = parsed.value as ImageIndex;
    if (opts.platform) {
      const want = opts.platform;
      const child = index.manifests.find((m) => m.platform && platformMatches(want, m.platform));
      if (!child) throw new Error(`no manifest for the requested platform in ${reference}`);
      return copyImage(source, sink, child.digest, tag, { ...opts, platform: undefined });
    }
    for (const child of index.manifests) await copyImage(source, sink, child.digest, undefined, opts);
  } else {
    const manifest = parsed.value as ImageManifest;
    for (const blob of [manifest.config, ...manifest.layers]) await copyBlob(source, sink, blob, opts);
  }
  const digest = await sink.putManifest(tag, fetched.bytes, parsed.mediaType);
  return { digest, mediaType: parsed.mediaType, size: fetched.bytes.length };
}

async function copyBlob(
  source: ImageSource,
  sink: ImageSink,
  blob: Descriptor,
  opts: CopyOptions,
): Promise<void> {
  if (blob.urls && blob.urls.length > 0) return; // foreign layers stay where they are
  if (await sink.hasBlob(blob.digest)) {
    opts.onBlob?.(blob.digest, "exists");
    return;
  }
  const how = await sink.putBlob(
    blob.digest,
    blob.size,
    async () => (await source.getBlob(blob.digest)).stream,
    opts.mountFrom,
  );
  opts.onBlob?.(blob.digest, how);
}
