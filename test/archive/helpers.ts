import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after } from "node:test";
import { pack } from "tar-stream";
import { LocalStore } from "../../src/images/local-store.js";
import { repoRoot } from "../helpers/fixtures.js";
import { runOk, tempDir } from "../helpers/processes.js";

let fixtures: Promise<string> | undefined;

/**
 * The buildah-made test images (oci/ with busybox-1, app-1, multi-1; busybox.tar): the ones
 * `npm test` builds, else /tmp/fx, else built now into a temporary directory (about 10 s).
 */
export function imageFixtures(): Promise<string> {
  fixtures ??= (async () => {
    for (const dir of [join(repoRoot(), ".fixtures/images"), "/tmp/fx"]) {
      if (existsSync(join(dir, "MANIFEST.txt"))) return dir;
    }
    const dir = await tempDir("berth-archive-fixtures-");
    const script = join(process.env.BERTH_SHARED ?? join(repoRoot(), "../shared"), "fixtures/make-images.sh");
    await runOk("bash", [script, dir]);
    return dir;
  })();
  return fixtures;
}

const stores: LocalStore[] = [];
after(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A fresh local store in a temporary directory. */
export async function newStore(): Promise<LocalStore> {
  const store = new LocalStore(await tempDir("berth-archive-store-"));
  stores.push(store);
  return store;
}

export async function skopeoJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await runOk("skopeo", args)).stdout) as T;
}

export interface RawManifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

export interface RawConfig {
  rootfs: { diff_ids: string[] };
}

export function rawManifest(ref: string): Promise<RawManifest> {
  return skopeoJson<RawManifest>(["inspect", "--raw", ref]);
}

export function rawConfig(ref: string): Promise<RawConfig> {
  return skopeoJson<RawConfig>(["inspect", "--config", "--raw", ref]);
}

export type Entry =
  | { name: string; body: string | Buffer }
  | { name: string; type: "symlink" | "link"; linkname: string }
  | { name: string; type: "directory" };

/** Writes a tar made of the given entries (tar-stream, pax headers for long names). */
export async function writeTar(path: string, entries: Entry[]): Promise<void> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    if ("body" in e) p.entry({ name: e.name, mtime: new Date(0) }, e.body);
    else if (e.type === "directory") p.entry({ name: e.name, type: "directory", mtime: new Date(0) });
    else p.entry({ name: e.name, type: e.type, linkname: e.linkname, mtime: new Date(0) });
  }
  p.finalize();
  await done;
  await writeFile(path, Buffer.concat(chunks));
}

/** The image IDs and tags a store holds, for "nothing was recorded" checks. */
export function contents(store: LocalStore): { images: string[]; tags: string[] } {
  return {
    images: store.db.images().map((i) => i.id),
    tags: store.db.allTags().map((t) => `${t.repository}:${t.tag}`),
  };
}
