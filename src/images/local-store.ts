import { readdirSync, rmSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ContentStore } from "../content/store.js";
import { isAlive } from "../liveness.js";
import type { Digest } from "../oci/digest.js";
import { ImageDb } from "./db.js";

/** Where Berth keeps images: $BERTH_ROOT, else ~/.local/share/berth. */
export function defaultRoot(): string {
  if (process.env.BERTH_ROOT) return process.env.BERTH_ROOT;
  const dataHome = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(dataHome, "berth");
}

/**
 * The local image store: blobs in a content store, each layer unpacked once into its own
 * directory keyed by chain ID (as overlay2 does), and metadata in SQLite.
 *
 *   ROOT/content/blobs/sha256/HEX     compressed layers, configs, manifests
 *   ROOT/content/ingest/...           partial downloads, resumed by the next pull
 *   ROOT/layers/HEX/diff              an unpacked layer (HEX of its chain ID)
 *   ROOT/tmp/KIND-PID-*               work in progress (unpacks, loads, trash), swept when PID is gone
 *   ROOT/berth.db                     images, tags, layers, repo digests
 */
export class LocalStore {
  readonly content: ContentStore;
  readonly db: ImageDb;

  constructor(readonly root: string) {
    this.content = new ContentStore(join(root, "content"));
    this.db = ImageDb.open(join(root, "berth.db"), { layerDiffDir: (id) => this.layerDiffDir(id) });
    sweepTmp(this.tmpDir());
  }

  layerDir(chainId: string | Digest): string {
    const hex = String(chainId).replace(/^sha256:/, "");
    return join(this.root, "layers", hex);
  }

  layerDiffDir(chainId: string | Digest): string {
    return join(this.layerDir(chainId), "diff");
  }

  tmpDir(): string {
    return join(this.root, "tmp");
  }

  /**
   * A private directory under tmp/ for work in progress ("unpack", "load"), named for this
   * process so that, if it dies, the next berth to open the store removes what it left.
   */
  async makeTmpDir(kind: string): Promise<string> {
    await mkdir(this.tmpDir(), { recursive: true });
    return mkdtemp(join(this.tmpDir(), `${kind}-${process.pid}-`));
  }

  close(): void {
    this.db.close();
  }
}

/** Removes what processes that are gone left under tmp/: unpacks, loads, and trash not yet deleted. */
function sweepTmp(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = /^[a-z]+-(\d+)-/.exec(name);
    const pid = Number(owner?.[1]);
    if (!owner || pid === process.pid || isAlive(pid, undefined)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}
