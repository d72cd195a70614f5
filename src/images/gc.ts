import { readdirSync, renameSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Digest } from "../oci/digest.js";
import { expireDeadLeases } from "./leases.js";
import type { LocalStore } from "./local-store.js";

export interface Collected {
  /** Chain IDs of the unpacked layers deleted, top layers first (as Docker lists them). */
  layers: string[];
  /** Bytes of those layers, unpacked. */
  reclaimed: number;
  /** Blobs of the content store deleted. */
  blobs: number;
}

/**
 * Deletes what nothing needs any more: unpacked layers no image uses, and blobs of the content
 * store that no image, tag or repo digest names, except what a live process holds in a lease.
 * The decision and the removal from view are one write transaction: rows are deleted and
 * files renamed into the store's tmp/ inside it, so a pull that looks after it finds the
 * layer or blob gone (and fetches it again), never half-deleted. The renamed trees are
 * removed afterwards, and by the next start if this process dies first.
 */
export async function collectGarbage(store: LocalStore): Promise<Collected> {
  const db = store.db;
  await mkdir(store.tmpDir(), { recursive: true });
  const blobs = await store.content.list();
  const trash: string[] = [];
  const out: Collected = { layers: [], reclaimed: 0, blobs: 0 };
  const discard = (path: string) => {
    const to = join(store.tmpDir(), `trash-${process.pid}-${trash.length}-${Date.now().toString(36)}`);
    try {
      renameSync(path, to);
      trash.push(to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  };
  db.write(() => {
    expireDeadLeases(db);
    const heldLayers = db.leasedKeys("layer");
    for (const layer of db.unreferencedLayers().reverse()) {
      if (heldLayers.has(layer.chainId)) continue;
      db.deleteLayer(layer.chainId);
      discard(store.layerDir(layer.chainId));
      out.layers.push(layer.chainId);
      out.reclaimed += layer.size;
    }
    // A layer directory without its row: a process died between unpacking it and recording it.
    const recorded = new Set(db.allLayerIds().map((id) => id.replace(/^sha256:/, "")));
    for (const hex of listDir(join(store.root, "layers"))) {
      if (recorded.has(hex) || heldLayers.has(`sha256:${hex}`)) continue;
      discard(join(store.root, "layers", hex));
    }
    const keep = db.referencedBlobs();
    for (const held of db.leasedKeys("blob")) keep.add(held);
    db.forgetUnreferenced(keep);
    for (const digest of blobs) {
      if (keep.has(digest.toString())) continue;
      discard(store.content.blobPath(digest as Digest));
      out.blobs++;
    }
  });
  await Promise.all(trash.map((t) => rm(t, { recursive: true, force: true })));
  return out;
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
