import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import type { ImageSink, OpenBlob } from "../content/source.js";
import { exportImage } from "../images/export.js";
import type { LocalStore } from "../images/local-store.js";
import { type ImageManifest, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import { familiarString, formatReference, type Reference } from "../oci/reference.js";

export interface SaveItem {
  imageId: string;
  /** Names to record (RepoTags); empty for an image saved by ID. */
  names: Reference[];
}

/**
 * An ImageSink writing into a tar: every blob once, under blobs/sha256/HEX, streamed from the
 * content store with its size known up front, so no layer is held in memory.
 */
class TarSink implements ImageSink {
  readonly description = "archive";
  readonly written = new Set<string>();
  readonly manifests = new Map<string, Buffer>();
  constructor(private readonly tar: ReturnType<typeof pack>) {}

  async hasBlob(digest: string): Promise<boolean> {
    return this.written.has(digest);
  }

  async putBlob(digest: string, size: number, open: OpenBlob): Promise<"pushed"> {
    const entry = this.tar.entry({ name: blobPath(digest), size, mode: 0o644, mtime: EPOCH });
    await pipeline(await open(), entry);
    this.written.add(digest);
    return "pushed";
  }

  async putManifest(_tag: string | undefined, bytes: Buffer): Promise<string> {
    const { digestOf } = await import("../oci/digest.js");
    const digest = digestOf(bytes).toString();
    if (!this.written.has(digest)) await this.writeFile(blobPath(digest), bytes);
    this.written.add(digest);
    this.manifests.set(digest, bytes);
    return digest;
  }

  writeFile(name: string, data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.tar.entry({ name, mode: 0o644, mtime: EPOCH }, data, (err) => (err ? reject(err) : resolve())),
    );
  }
}

const EPOCH = new Date(0);

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(":");
  return `blobs/${alg}/${hex}`;
}

/**
 * Writes images as Docker 25+ does: a docker-archive (manifest.json, repositories) and an OCI
 * image layout (oci-layout, index.json) over the same blobs. Pulled images keep the manifest
 * and compressed layers they came with, so the OCI side is byte-identical to the registry's.
 */
export async function saveImages(store: LocalStore, items: SaveItem[], out: Writable): Promise<void> {
  const tar = pack();
  const sink = new TarSink(tar);
  const done = pipeline(tar, out);
  try {
    const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const index: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] =
      [];
    for (const item of items) {
      const preferred = item.names
        .map((n) => (n.tag ? store.db.tagManifest(`${n.registry}/${n.repository}`, n.tag) : undefined))
        .find((m) => m !== undefined);
      const result = await exportImage(store, sink, item.imageId, undefined, {
        concurrency: 1,
        manifest: preferred,
      });
      const manifest = parseManifest(sink.manifests.get(result.digest)!).value as ImageManifest;
      manifestJson.push({
        Config: blobPath(manifest.config.digest),
        RepoTags: item.names.length > 0 ? item.names.map(familiarString) : null,
        Layers: manifest.layers.map((l) => blobPath(l.digest)),
      });
      const top = manifest.layers.at(-1)?.digest.split(":")[1] ?? item.imageId.split(":")[1]!;
      for (const name of item.names) {
        const familiar = familiarString({ ...name, tag: undefined });
        repositories[familiar] = { ...repositories[familiar], [name.tag ?? "latest"]: top };
      }
      const base = { mediaType: result.mediaType, digest: result.digest, size: result.size };
      if (item.names.length === 0) index.push(base);
      for (const name of item.names) {
        index.push({
          ...base,
          annotations: {
            "io.containerd.image.name": formatReference(name),
            "org.opencontainers.image.ref.name": name.tag ?? "latest",
          },
        });
      }
    }
    await sink.writeFile(
      "index.json",
      JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OCI_INDEX, manifests: index }),
    );
    await sink.writeFile("manifest.json", JSON.stringify(manifestJson));
    await sink.writeFile("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (Object.keys(repositories).length > 0)
      await sink.writeFile("repositories", JSON.stringify(repositories));
    tar.finalize();
    await done;
  } catch (err) {
    tar.destroy(err as Error);
    await done.catch(() => {});
    throw err;
  }
}

/** Saves to a file: written under a temporary name and renamed, so a failed save leaves nothing. */
export async function saveImagesToFile(store: LocalStore, items: SaveItem[], path: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await saveImages(store, items, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
