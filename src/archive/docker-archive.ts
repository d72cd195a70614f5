import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { detectCompression } from "../layer/compression.js";
import { cleanName } from "../layer/unpack.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digester, digestOf } from "../oci/digest.js";
import { parseManifest } from "../oci/manifest.js";
import { MediaTypes } from "../oci/media-types.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { BlobReadOptions, BlobStream, FetchedManifest, ImageSource } from "../transfer/types.js";
import { ArchiveError } from "./errors.js";

/** One image of a docker-archive's manifest.json, with the manifest made up for it. */
export interface DockerArchiveImage {
  manifest: FetchedManifest;
  names: Reference[];
}

interface Entry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * An unpacked docker-archive (manifest.json, a config and a tar per layer, as `docker save`
 * wrote them before Docker 25, and skopeo and buildah still do) read as an image source. The
 * archive has no manifests: one is made up per image, an OCI manifest over the files as they
 * are (each layer hashed first), so the walk verifies the files like any other blobs.
 */
export class DockerArchiveSource implements ImageSource {
  readonly description: string;
  /** digest -> file */
  private readonly files = new Map<string, string>();
  private readonly manifests = new Map<string, FetchedManifest>();

  private constructor(readonly dir: string) {
    this.description = `docker-archive ${dir}`;
  }

  static async open(dir: string): Promise<{ source: DockerArchiveSource; images: DockerArchiveImage[] }> {
    const source = new DockerArchiveSource(dir);
    let entries: Entry[];
    try {
      entries = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Entry[];
      if (!Array.isArray(entries)) throw new Error("not a list");
    } catch (err) {
      throw new ArchiveError(`manifest.json is not valid: ${(err as Error).message}`);
    }
    const images: DockerArchiveImage[] = [];
    for (const entry of entries) {
      if (typeof entry?.Config !== "string" || !Array.isArray(entry.Layers)) {
        throw new ArchiveError("manifest.json entries need Config and Layers");
      }
      const configPath = join(dir, member(entry.Config));
      const config = await readMember(configPath, entry.Config);
      const configDesc = {
        mediaType: MediaTypes.OCI_CONFIG,
        digest: digestOf(config).toString(),
        size: config.length,
      };
      source.files.set(configDesc.digest, configPath);
      const layers: Descriptor[] = [];
      for (const layer of entry.Layers) {
        const path = join(dir, member(layer));
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
      const bytes = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.OCI_MANIFEST, config: configDesc, layers }),
      );
      const manifest: FetchedManifest = {
        descriptor: {
          mediaType: MediaTypes.OCI_MANIFEST,
          digest: digestOf(bytes).toString(),
          size: bytes.length,
        },
        bytes,
        parsed: parseManifest(bytes, MediaTypes.OCI_MANIFEST),
        madeUp: true,
      };
      source.manifests.set(manifest.descriptor.digest, manifest);
      images.push({ manifest, names: (entry.RepoTags ?? []).map((t) => parseReference(t)) });
    }
    return { source, images };
  }

  async resolve(reference: string): Promise<FetchedManifest> {
    const found = this.manifests.get(reference);
    if (!found) throw new ArchiveError(`the archive has no image ${reference}`);
    return found;
  }

  async manifest(desc: Descriptor): Promise<FetchedManifest> {
    return this.resolve(desc.digest);
  }

  async blob(desc: Descriptor, opts: BlobReadOptions = {}): Promise<BlobStream> {
    const path = this.files.get(desc.digest);
    if (!path) throw new ArchiveError(`the archive has no blob ${desc.digest}`);
    const offset = opts.offset ?? 0;
    return { stream: createReadStream(path, { start: offset, highWaterMark: 1024 * 1024 }), offset };
  }
}

function member(name: string): string {
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
  if (!(await stat(path).catch(() => undefined))?.isFile())
    throw new ArchiveError(`the archive has no layer ${name}`);
  const digester = new Digester();
  let size = 0;
  let head: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    head ??= chunk as Buffer;
    digester.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return {
    digest: digester.digest().toString(),
    size,
    compression: detectCompression(head ?? Buffer.alloc(0)),
  };
}
