import type { Writable } from "node:stream";
import type { LocalStore } from "../images/local-store.js";
import type { Reference } from "../oci/reference.js";
import { LocalStoreSource } from "../transfer/local-store.js";
import { transfer } from "../transfer/walk.js";
import { checkOutputPath, writeOutputFile } from "./output-file.js";
import { TarArchiveSink } from "./tar-sink.js";

export interface SaveItem {
  /** How the user named the image (a name, or an ID). */
  input: string;
  /** Names to record (RepoTags); empty for an image saved by ID. */
  names: Reference[];
}

/**
 * Writes images as Docker 25+ does: a docker-archive (manifest.json, repositories) and an OCI
 * image layout (oci-layout, index.json) over the same blobs, each image one walk from the
 * local store into the tar. Pulled images keep the manifest and compressed layers they came
 * with, so the OCI side is byte-identical to the registry's.
 */
export async function saveImages(store: LocalStore, items: SaveItem[], out: Writable): Promise<void> {
  const sink = new TarArchiveSink(out, { docker: true });
  const source = new LocalStoreSource(store);
  try {
    for (const item of items) {
      await transfer(source, sink, { reference: item.input, names: item.names, concurrency: 1 });
    }
    await sink.close();
  } catch (err) {
    await sink.abort(err as Error);
    throw err;
  }
}

export { checkOutputPath } from "./output-file.js";

/** Saves to a file (mode 0600, as docker's): written under a temporary name and renamed, so a failed save leaves nothing. */
export async function saveImagesToFile(store: LocalStore, items: SaveItem[], path: string): Promise<void> {
  await checkOutputPath(path, "failed to save image");
  await writeOutputFile(path, (out) => saveImages(store, items, out));
}
