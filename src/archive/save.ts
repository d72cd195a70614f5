import { createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import type { ImageSink } from "../content/source.js";
import { exportImage } from "../images/export.js";
import type { LocalStore } from "../images/local-store.js";
import { Digest, digestOf } from "../oci/digest.js";
import { type ImageManifest, parseImageConfig, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import { familiarName, familiarString, formatReference, type Reference } from "../oci/reference.js";

export interface SaveItem {
  imageId: string;
  /** Names to record (RepoTags); empty for an image saved by ID. A name without a tag means :latest. */
  names: Reference[];
}

/** What Docker 25+ writes: Go's json.Encoder ends each document with a newline. */
interface ManifestJsonEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

const EPOCH = new Date(0);

function blobPath(digest: string): string {
  const d = Digest.parse(digest);
  return `blobs/${d.algorithm}/${d.hex}`;
}

/**
 * An ImageSink writing into a tar: every blob once, under blobs/ALG/HEX, streamed from the
 * content store with its size in the header, so no layer is held in memory. Entries are written
 * one at a time (a tar has no interleaving): exportImage is called with concurrency 1.
 */
class TarSink implements ImageSink {
  readonly description = "archive";
  private readonly written = new Set<string>();
  private readonly dirs = new Set<string>();
  readonly manifests = new Map<string, Buffer>();

  constructor(private readonly tar: ReturnType<typeof pack>) {}

  async hasBlob(digest: string): Promise<boolean> {
    return this.written.has(digest);
  }

  async putBlob(digest: string, size: number, open: () => Promise<Readable>): Promise<"pushed"> {
    await this.blobDirs(digest);
    const entry = this.tar.entry({ name: blobPath(digest), size, mode: 0o644, mtime: EPOCH });
    await pipeline(await open(), entry);
    this.written.add(digest);
    return "pushed";
  }

  async putManifest(_tag: string | undefined, bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes).toString();
    if (!this.written.has(digest)) {
      await this.blobDirs(digest);
      await this.writeFile(blobPath(digest), bytes);
      this.written.add(digest);
    }
    this.manifests.set(digest, bytes);
    return digest;
  }

  /** Directory entries before the first blob, as `docker save` has them (some untar tools want them). */
  private async blobDirs(digest: string): Promise<void> {
    const algorithm = Digest.parse(digest).algorithm;
    for (const dir of ["blobs/", `blobs/${algorithm}/`]) {
      if (this.dirs.has(dir)) continue;
      this.dirs.add(dir);
      await new Promise<void>((resolve, reject) =>
        this.tar.entry({ name: dir, type: "directory", mode: 0o755, mtime: EPOCH }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
  }

  writeFile(name: string, data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.tar.entry({ name, mode: 0o644, mtime: EPOCH }, data, (err) => (err ? reject(err) : resolve())),
    );
  }
}

/**
 * `docker save`, as Docker 25+ writes it: an OCI image layout (oci-layout, index.json with one
 * descriptor per name, annotated with io.containerd.image.name and
 * org.opencontainers.image.ref.name, blobs/sha256/…) and, over the same blobs, a docker-archive
 * (manifest.json with Config and Layers as "blobs/sha256/HEX" paths, and the legacy
 * `repositories` map). Images keep the manifest and compressed layers they were pulled or
 * loaded with, unchanged, so the OCI side is byte-identical to the registry's and manifest.json
 * points at the compressed blobs (docker load and skopeo decompress them). Writes to `out` and
 * ends it; on error `out` is destroyed.
 */
export async function saveImages(store: LocalStore, items: SaveItem[], out: Writable): Promise<void> {
  const tar = pack();
  const sink = new TarSink(tar);
  const done = pipeline(tar, out);
  try {
    const manifestJson: ManifestJsonEntry[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const index: IndexEntry[] = [];
    for (const item of items) {
      const names = uniqueTagged(item.names);
      const preferred = names
        .map((n) => store.db.tagManifest(`${n.registry}/${n.repository}`, n.tag!))
        .find((m) => m !== undefined);
      const result = await exportImage(store, sink, item.imageId, undefined, {
        concurrency: 1,
        ...(preferred ? { manifest: preferred } : {}),
      });
      const manifest = parseManifest(sink.manifests.get(result.digest)!).value as ImageManifest;
      const config = parseImageConfig(await store.content.readAll(Digest.parse(manifest.config.digest)));
      manifestJson.push({
        Config: blobPath(manifest.config.digest),
        RepoTags: names.length > 0 ? names.map(familiarString) : null,
        Layers: manifest.layers.map((l) => blobPath(l.digest)),
      });
      // Docker 25+ maps each tag to the top layer's diff_id (older versions, to a v1 layer ID).
      const top = config.rootfs.diff_ids.at(-1);
      if (top) {
        for (const name of names) {
          const repo = familiarName(name);
          repositories[repo] = { ...repositories[repo], [name.tag!]: Digest.parse(top).hex };
        }
      }
      const base: IndexEntry = {
        mediaType: result.mediaType,
        digest: result.digest,
        size: result.size,
        platform: {
          architecture: config.architecture,
          os: config.os,
          ...(config.variant ? { variant: config.variant } : {}),
        },
      };
      if (names.length === 0) index.push(base);
      for (const name of names) {
        index.push({
          ...base,
          annotations: {
            "io.containerd.image.name": formatReference(name),
            "org.opencontainers.image.ref.name": name.tag!,
          },
        });
      }
    }
    await sink.writeFile(
      "index.json",
      JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OCI_INDEX, manifests: index }),
    );
    await sink.writeFile("manifest.json", `${JSON.stringify(manifestJson)}\n`);
    await sink.writeFile("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (Object.keys(repositories).length > 0) {
      await sink.writeFile("repositories", `${JSON.stringify(repositories)}\n`);
    }
    tar.finalize();
    await done;
  } catch (err) {
    tar.destroy(err as Error);
    await done.catch(() => {});
    throw err;
  }
}

/** Tagged, digest-free and without repeats: what RepoTags and ref.name can carry (Docker's TagNameOnly). */
function uniqueTagged(names: Reference[]): Reference[] {
  const out: Reference[] = [];
  for (const n of names) {
    const tagged: Reference = { registry: n.registry, repository: n.repository, tag: n.tag ?? "latest" };
    if (!out.some((o) => formatReference(o) === formatReference(tagged))) out.push(tagged);
  }
  return out;
}

/**
 * `docker save -o FILE`: written to a temporary file beside FILE, flushed, and renamed over it
 * at the end, so a failed save leaves neither a partial FILE nor the temporary one.
 */
export async function saveImagesToFile(store: LocalStore, items: SaveItem[], path: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.berth-${process.pid}.tmp`);
  try {
    await saveImages(store, items, createWriteStream(tmp, { mode: 0o644 }));
    // A FileHandle's own write stream keeps the handle referenced (its close() never returns),
    // so the data is flushed through a second open.
    const fh = await open(tmp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
