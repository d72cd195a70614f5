import { mkdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { DigestMismatchError } from "../content/errors.js";
import { importImage } from "../images/import.js";
import type { LocalStore } from "../images/local-store.js";
import type { ProgressListener } from "../images/progress.js";
import { Digest } from "../oci/digest.js";
import type { Platform } from "../oci/platform.js";
import type { Reference } from "../oci/reference.js";
import { ArchiveDigestMismatchError } from "./errors.js";
import { type OpenedArchive, openArchiveSource, openArchiveStream } from "./open.js";

export interface LoadedImage {
  imageId: string;
  /** The image manifest it was recorded with (the platform's, for an index). */
  manifest: string;
  /** Names given to it: docker-archive RepoTags, or io.containerd.image.name annotations. */
  names: Reference[];
}

export interface LoadOptions {
  /** For an image that is an index: which platform to load (default: the host's). */
  platform?: Platform;
  onProgress?: ProgressListener;
}

/**
 * `docker load`: reads a docker-archive, an OCI archive or an OCI layout directory (a path), or
 * an archive on a stream (standard input, copied to a temporary file under the store first), and
 * brings each image in through the same walk as a pull. All or nothing: the archive is checked
 * before anything is stored, tags are recorded in one transaction once every image is in, and
 * when an import fails the images this load added are removed again (verified blobs and
 * unpacked layers stay, as after an interrupted pull, for the next attempt or a prune).
 */
export async function loadArchive(
  store: LocalStore,
  input: string | Readable,
  opts: LoadOptions = {},
): Promise<LoadedImage[]> {
  await mkdir(store.tmpDir(), { recursive: true });
  const archive =
    typeof input === "string"
      ? await openArchiveSource(input, { tmpDir: store.tmpDir() })
      : await openArchiveStream(input, { tmpDir: store.tmpDir() });
  try {
    return await loadImages(store, archive, opts);
  } finally {
    await archive.close();
  }
}

/** Loads the images of an archive opened with `openArchiveSource` (see `loadArchive`). */
export async function loadImages(
  store: LocalStore,
  archive: OpenedArchive,
  opts: LoadOptions = {},
): Promise<LoadedImage[]> {
  const before = new Set(store.db.images().map((i) => i.id));
  const loaded: LoadedImage[] = [];
  try {
    for (const image of archive.images) {
      // The store records a repository only with a tag or a repo digest, and a load sets neither
      // here, so this name is never seen.
      const anchor: Reference = {
        registry: "docker.io",
        repository: "library/loaded",
        digest: Digest.parse(image.reference),
      };
      const result = await importImage(store, image.source, anchor, {
        repoDigest: false,
        keepBlobs: true,
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      loaded.push({ imageId: result.imageId, manifest: result.manifest, names: image.references });
    }
  } catch (err) {
    for (const { imageId } of loaded) {
      if (!before.has(imageId) && store.db.tagsOf(imageId).length === 0) store.db.deleteImage(imageId);
    }
    if (err instanceof DigestMismatchError) {
      throw new ArchiveDigestMismatchError(
        archive.description,
        archive.memberOf(err.expected) ?? err.expected,
        err.expected,
        err.actual,
      );
    }
    throw err;
  }
  store.db.write(() => {
    for (const image of loaded) {
      for (const n of image.names) {
        store.db.setTag(`${n.registry}/${n.repository}`, n.tag ?? "latest", image.imageId, image.manifest);
      }
    }
  });
  return loaded;
}
