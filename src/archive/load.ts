import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { LocalStore } from "../images/local-store.js";
import { hostPlatform, type Platform } from "../oci/platform.js";
import type { Reference } from "../oci/reference.js";
import { LocalStoreSink } from "../transfer/local-store.js";
import type { ImageSource } from "../transfer/types.js";
import { transfer } from "../transfer/walk.js";
import { DockerArchiveSource } from "./docker-archive.js";
import { ArchiveError } from "./errors.js";
import { namesOf, OciLayoutSource } from "./oci-layout.js";
import { untar } from "./untar.js";

export interface LoadedImage {
  imageId: string;
  /** Names given to it: io.containerd.image.name annotations, or docker-archive RepoTags. */
  names: Reference[];
}

/** What an archive or layout holds, each image with the source to read it from. */
export interface ArchiveContents {
  source: ImageSource;
  images: { reference: string; names: Reference[] }[];
}

/**
 * Reads what an unpacked archive holds: an OCI layout (index.json), which Docker 25+, skopeo,
 * buildah and Berth write and which keeps the images' own manifests, else a docker-archive
 * (manifest.json only, as older `docker save` and skopeo's docker-archive write).
 */
export async function openArchiveDir(dir: string): Promise<ArchiveContents> {
  if (await exists(join(dir, "index.json"))) {
    const source = new OciLayoutSource(dir);
    const index = await source.index();
    return {
      source,
      images: index.manifests.map((d) => ({ reference: d.digest, names: namesOf(d) })),
    };
  }
  if (await exists(join(dir, "manifest.json"))) {
    const { source, images } = await DockerArchiveSource.open(dir);
    return {
      source,
      images: images.map((i) => ({ reference: i.manifest.descriptor.digest, names: i.names })),
    };
  }
  throw new ArchiveError(
    "this is neither an OCI layout (no index.json) nor a docker-archive (no manifest.json)",
  );
}

/**
 * Loads a docker-archive, an OCI archive (a tar of an OCI layout) or an OCI layout directory.
 * A tar is first unpacked into a private directory under the store's tmp/ (names checked as
 * layer entries are; removed when the load ends, and at the next start if it is killed), then
 * each image is walked into the store as a pull would be: every blob verified, nothing recorded
 * unless all of it arrived. An index is taken for the host's platform, as a pull does.
 */
export async function loadArchive(
  store: LocalStore,
  input: string | Readable,
  platform: Platform = hostPlatform(),
): Promise<LoadedImage[]> {
  let dir: string;
  let temporary: string | undefined;
  if (typeof input === "string" && (await stat(input).catch(() => undefined))?.isDirectory()) {
    dir = input;
  } else {
    temporary = await store.makeTmpDir("load");
    dir = temporary;
  }
  try {
    if (temporary) await untar(typeof input === "string" ? createReadStream(input) : input, temporary);
    const contents = await openArchiveDir(dir);
    const loaded: LoadedImage[] = [];
    for (const image of contents.images) {
      const sink = new LocalStoreSink(store);
      try {
        const { result } = await transfer(contents.source, sink, {
          reference: image.reference,
          names: image.names,
          platform,
          concurrency: 1,
        });
        loaded.push({ imageId: result.imageId, names: image.names });
      } catch (err) {
        sink.abort();
        throw err;
      }
    }
    return loaded;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
