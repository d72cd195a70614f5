import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import { InvalidArgumentError } from "../errors.js";
import type { LocalStore } from "../images/local-store.js";
import type { Reference } from "../oci/reference.js";
import { LocalStoreSource } from "../transfer/local-store.js";
import { transfer } from "../transfer/walk.js";
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

/** Docker's check before it writes anything: the directory a file goes in must exist. */
export async function checkOutputPath(path: string): Promise<void> {
  const dir = dirname(path);
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    throw new InvalidArgumentError(`invalid output path: stat ${dir}: no such file or directory`);
  }
  if (!info.isDirectory()) throw new InvalidArgumentError(`invalid output path: ${dir} is not a directory`);
}

/** Saves to a file: written under a temporary name and renamed, so a failed save leaves nothing. */
export async function saveImagesToFile(store: LocalStore, items: SaveItem[], path: string): Promise<void> {
  await checkOutputPath(path);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await saveImages(store, items, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
