import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { LocalStore } from "../../src/images/local-store.js";
import { resolveLocalImage } from "../../src/images/resolve.js";
import { mergedView } from "../../src/layer/merge.js";

/** Every entry of a tree: "type mode uid:gid content" by path (content: a file's sha256, a link's target). */
export async function listTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      const type = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : st.isFile() ? "file" : "other";
      const content =
        type === "file"
          ? createHash("sha256")
              .update(await readFile(join(root, path)))
              .digest("hex")
          : type === "link"
            ? await readlink(join(root, path))
            : "";
      out.set(path, `${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${content}`);
      if (type === "dir") await walk(path);
    }
  }
  await walk("");
  return out;
}

/** An image of a Berth store flattened (by the layer module's merge, not the builder's code) and listed. */
export async function listImage(
  storeRoot: string,
  image: string,
  scratch: string,
): Promise<Map<string, string>> {
  const store = new LocalStore(storeRoot);
  try {
    const { imageId } = resolveLocalImage(store.db, image);
    const dirs = store.db.imageLayers(imageId).map((l) => store.layerDiffDir(l.chainId));
    const dest = await mkdtemp(join(scratch, "merged-"));
    await mergedView(dirs, dest, { hardlink: true });
    return await listTree(dest);
  } finally {
    store.close();
  }
}

/** Lines naming what differs between two listings (empty when they are the same tree). */
export function treeDifferences(
  a: Map<string, string>,
  b: Map<string, string>,
  names: [string, string],
): string[] {
  const out: string[] = [];
  for (const [k, v] of a)
    if (b.get(k) !== v) out.push(`${k}: ${names[0]} ${v} | ${names[1]} ${b.get(k) ?? "(none)"}`);
  for (const [k, v] of b) if (!a.has(k)) out.push(`${k}: ${names[0]} (none) | ${names[1]} ${v}`);
  return out;
}
