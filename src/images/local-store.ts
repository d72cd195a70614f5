import { homedir } from "node:os";
import { join } from "node:path";
import { ContentStore } from "../content/store.js";
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
 *   ROOT/tmp/                         unpacking in progress, renamed into layers/ when verified
 *   ROOT/berth.db                     images, tags, layers, repo digests
 */
export class LocalStore {
  readonly content: ContentStore;
  readonly db: ImageDb;

  constructor(readonly root: string) {
    this.content = new ContentStore(join(root, "content"));
    this.db = ImageDb.open(join(root, "berth.db"));
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

  close(): void {
    this.db.close();
  }
}
