import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import type { ImageSource, SourceBlob, SourceManifest } from "../content/source.js";
import { importImage } from "../images/import.js";
import type { LocalStore } from "../images/local-store.js";
import { detectCompression } from "../layer/compression.js";
import { cleanName } from "../layer/unpack.js";
import { Digest, Digester, digestOf } from "../oci/digest.js";
import { type ImageIndex, parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import { parseReference, type Reference } from "../oci/reference.js";
import { ArchiveError } from "./errors.js";

export interface LoadedImage {
  imageId: string;
  /** Names given to it: docker-archive RepoTags, or io.containerd.image.name annotations. */
  names: Reference[];
}

/**
 * Loads a docker-archive, an OCI archive (a tar of an OCI layout) or an OCI layout directory.
 * A tar is first unpacked, file by file, into a private directory under the store (names are
 * checked like layer entries), then read as a directory: each image goes through the same walk
 * as a pull, so every blob is verified and nothing is recorded unless all of it arrived.
 */
export async function loadArchive(store: LocalStore, input: string | Readable): Promise<LoadedImage[]> {
  let dir: string;
  let temporary: string | undefined;
  if (typeof input === "string" && (await stat(input).catch(() => undefined))?.isDirectory()) {
    dir = input;
  } else {
    await mkdir(store.tmpDir(), { recursive: true });
    temporary = await mkdtemp(join(store.tmpDir(), "load-"));
    dir = temporary;
    await untar(typeof input === "string" ? createReadStream(input) : input, dir);
  }
  try {
    const hasIndex = await exists(join(dir, "index.json"));
    const hasManifest = await exists(join(dir, "manifest.json"));
    if (hasManifest) return await loadDockerArchive(store, dir);
    if (hasIndex) return await loadOciLayout(store, dir);
    throw new ArchiveError(
      "this is neither a docker-archive (no manifest.json) nor an OCI layout (no index.json)",
    );
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

async function untar(source: Readable, dir: string): Promise<void> {
  const tar = extract();
  let entries = 0;
  tar.on("entry", (header, body, next) => {
    entries++;
    (async () => {
      const name = cleanName(header.name);
      if (header.type === "directory" || name === "") {
        body.resume();
        return;
      }
      if (header.type !== "file" && header.type !== "contiguous-file") {
        body.resume();
        return;
      }
      const full = join(dir, name);
      await mkdir(join(full, ".."), { recursive: true });
      const fh = await open(full, "wx", 0o600);
      try {
        await pipeline(body, fileSink(fh));
      } finally {
        await fh.close();
      }
    })().then(
      () => next(),
      (err: unknown) => next(err as Error),
    );
  });
  try {
    await pipeline(source, tar);
  } catch (err) {
    if ((err as { code?: string }).code === "UNSAFE_LAYER") throw new ArchiveError((err as Error).message);
    throw new ArchiveError(`not a valid tar archive: ${(err as Error).message}`);
  }
  if (entries === 0) throw new ArchiveError("not a tar archive, or an empty one");
}

function fileSink(fh: Awaited<ReturnType<typeof open>>): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      fh.write(chunk).then(() => cb(), cb);
    },
  });
}

/** Files of a directory as an image source; blobs found by digest, verified on import. */
class DirectorySource implements ImageSource {
  readonly description: string;
  /** digest -> file, for blobs not under blobs/ALG/HEX (docker-archive layer files). */
  readonly files = new Map<string, string>();
  /** Synthesised manifests (docker-archive has none of its own). */
  readonly manifests = new Map<string, SourceManifest>();

  constructor(private readonly dir: string) {
    this.description = dir;
  }

  private path(digest: string): string {
    const known = this.files.get(digest);
    if (known) return known;
    const d = Digest.parse(digest);
    return join(this.dir, "blobs", d.algorithm, d.hex);
  }

  async getManifest(reference: string): Promise<SourceManifest> {
    const synthetic = this.manifests.get(reference);
    if (synthetic) return synthetic;
    const bytes = await readMember(this.path(reference), reference);
    const digest = digestOf(bytes, Digest.parse(reference).algorithm);
    if (!digest.equals(reference)) {
      throw new ArchiveError(`manifest ${reference} in the archive has digest ${digest}`);
    }
    return { bytes, mediaType: parseManifest(bytes).mediaType, digest };
  }

  async getBlob(digest: string): Promise<SourceBlob> {
    const path = this.path(digest);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ArchiveError(`the archive has no blob ${digest}`);
    return { stream: createReadStream(path, { highWaterMark: 1024 * 1024 }), offset: 0, length: info.size };
  }
}

async function loadDockerArchive(store: LocalStore, dir: string): Promise<LoadedImage[]> {
  let entries: { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  try {
    entries = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
    if (!Array.isArray(entries)) throw new Error("not a list");
  } catch (err) {
    throw new ArchiveError(`manifest.json is not valid: ${(err as Error).message}`);
  }
  const source = new DirectorySource(dir);
  const loaded: LoadedImage[] = [];
  for (const entry of entries) {
    if (typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) {
      throw new ArchiveError("manifest.json entries need Config and Layers");
    }
    const configPath = join(dir, cleanMember(entry.Config));
    const config = await readMember(configPath, entry.Config);
    const configDigest = digestOf(config).toString();
    source.files.set(configDigest, configPath);
    const layers = [];
    for (const layer of entry.Layers) {
      const path = join(dir, cleanMember(layer));
      const { digest, size, compression } = await hashFile(path, layer);
      source.files.set(digest, path);
      const mediaType =
        compression === "gzip"
          ? MediaTypes.OCI_LAYER_GZIP
          : compression === "zstd"
            ? MediaTypes.OCI_LAYER_ZSTD
            : MediaTypes.OCI_LAYER;
      layers.push({ mediaType, digest, size });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.OCI_MANIFEST,
        config: { mediaType: MediaTypes.OCI_CONFIG, digest: configDigest, size: config.length },
        layers,
      }),
    );
    const digest = digestOf(manifest);
    source.manifests.set(digest.toString(), { bytes: manifest, mediaType: MediaTypes.OCI_MANIFEST, digest });
    const names = (entry.RepoTags ?? []).map((t) => parseReference(t));
    // The manifest was made up here: pushes build their own, with compressed layers.
    loaded.push(await importOne(store, source, digest.toString(), names, false));
  }
  return loaded;
}

async function loadOciLayout(store: LocalStore, dir: string): Promise<LoadedImage[]> {
  let index: ImageIndex;
  try {
    index = parseManifest(await readFile(join(dir, "index.json"))).value as ImageIndex;
  } catch (err) {
    throw new ArchiveError(`index.json is not a valid OCI index: ${(err as Error).message}`);
  }
  const source = new DirectorySource(dir);
  const loaded: LoadedImage[] = [];
  for (const desc of index.manifests) {
    const name =
      desc.annotations?.["io.containerd.image.name"] ??
      desc.annotations?.["org.opencontainers.image.ref.name"];
    let names: Reference[] = [];
    if (name && (name.includes(":") || name.includes("/"))) {
      try {
        names = [parseReference(name)];
      } catch {
        names = [];
      }
    }
    loaded.push(await importOne(store, source, desc.digest, names));
  }
  return loaded;
}

/** Imports one image by manifest digest, then names it; a failed import records nothing. */
async function importOne(
  store: LocalStore,
  source: ImageSource,
  digest: string,
  names: Reference[],
  ownManifest = true,
): Promise<LoadedImage> {
  const anchor: Reference = {
    registry: "docker.io",
    repository: "library/loaded",
    digest: Digest.parse(digest),
  };
  const result = await importImage(store, source, anchor, {
    repoDigest: false,
    keepBlobs: true,
    recordManifests: ownManifest,
  });
  store.db.write(() => {
    for (const n of names) {
      store.db.setTag(
        `${n.registry}/${n.repository}`,
        n.tag ?? "latest",
        result.imageId,
        ownManifest ? result.manifest : null,
      );
    }
  });
  return { imageId: result.imageId, names };
}

function cleanMember(name: string): string {
  try {
    return cleanName(name);
  } catch (err) {
    throw new ArchiveError(
      `archive member ${JSON.stringify(name)} escapes the archive: ${(err as Error).message}`,
    );
  }
}

async function readMember(path: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new ArchiveError(`the archive has no ${name}`);
  }
}

async function hashFile(path: string, name: string) {
  const digester = new Digester();
  let size = 0;
  let head: Buffer | undefined;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      head ??= chunk as Buffer;
      digester.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch {
    throw new ArchiveError(`the archive has no layer ${name}`);
  }
  return {
    digest: digester.digest().toString(),
    size,
    compression: detectCompression(head ?? Buffer.alloc(0)),
  };
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
