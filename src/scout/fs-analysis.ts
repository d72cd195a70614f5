import { createReadStream } from "node:fs";
import { lstat, mkdtemp, opendir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_LIMITS, LayerAnalyzer, type Limits, planFor } from "./layer-analyzer.js";
import { mergeLayers } from "./merge.js";
import type { Inventory, LayerRef } from "./model.js";

/**
 * The inventory of a directory tree (`fs://DIR`): the same analysers fed from the files instead
 * of a tar, only the files they want read, symbolic links not followed. One pseudo-layer, no cache
 * (a directory has no digest to key it by).
 */
export async function inventoryDirectory(
  dir: string,
  name: string,
  tmpRoot: string,
  limits?: Partial<Limits>,
): Promise<Inventory> {
  const all: Limits = { ...DEFAULT_LIMITS, ...limits };
  const tmpDir = await mkdtemp(join(tmpRoot, `scout-${process.pid}-`));
  try {
    const analyzer = new LayerAnalyzer({ tmpDir, limits });
    const stack = [""];
    while (stack.length > 0) {
      const rel = stack.pop()!;
      const handle = await opendir(join(dir, rel));
      const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
      for await (const d of handle) names.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile() });
      names.sort((a, b) => (a.name < b.name ? 1 : -1));
      for (const d of names) {
        const path = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDir) {
          stack.push(path);
          continue;
        }
        if (!d.isFile) continue;
        const st = await lstat(join(dir, path));
        if (!planFor(path, st.mode, st.size, all)) continue;
        analyzer.entry({
          name: path,
          type: "file",
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
          size: st.size,
          mtime: st.mtimeMs / 1000,
          linkname: "",
          devmajor: 0,
          devminor: 0,
        });
        for await (const chunk of createReadStream(join(dir, path), { highWaterMark: 256 * 1024 })) {
          analyzer.data(chunk as Buffer);
          if (!analyzer.wantsData) break;
        }
        analyzer.entryEnd();
        if (analyzer.backlog >= 4) await analyzer.drain();
      }
    }
    const analysis = await analyzer.finish();
    const layer: LayerRef = { index: 0, digest: "", diffId: "", createdBy: `directory ${dir}` };
    const merged = mergeLayers([analysis], [layer]);
    return {
      name,
      distro: merged.distro,
      layers: [layer],
      packages: merged.packages,
      unreadable: merged.unreadable,
      analysed: { read: 1, cached: 0 },
    };
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
