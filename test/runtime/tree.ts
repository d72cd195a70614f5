import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";

/** A digest of a directory tree: names, types, modes, owners, link targets and file contents. */
export async function treeDigest(dir: string): Promise<string> {
  const h = createHash("sha256");
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = `${rel}/${name}`;
      const st = await lstat(join(dir, path));
      h.update(`${path}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.rdev}\0`);
      if (st.isSymbolicLink()) h.update(await readlink(join(dir, path)));
      else if (st.isFile()) h.update(await readFile(join(dir, path)));
      else if (st.isDirectory()) await walk(path);
    }
  }
  await walk("");
  return h.digest("hex");
}
