import { readFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { RuntimeError } from "./errors.js";
import { type Exec, execHelper } from "./exec-file.js";

export interface OverlayDirs {
  /** Read-only layers, topmost first (the image's chain-ID diff directories). */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/** The mount(2) data of one call is limited to a page; paths are given relative to the layers' parent. */
const MAX_OPTIONS = 4000;

/**
 * Mounts an overlay filesystem: the container's upper directory over the image's layers.
 * Lower paths are passed relative to their common parent (mount runs there), as Docker's
 * overlay2 does, so that deep images fit the kernel's one-page limit on mount options.
 */
export async function mountOverlay(dirs: OverlayDirs, exec: Exec = execHelper): Promise<void> {
  if (dirs.lowers.length === 0) throw new RuntimeError("an overlay needs at least one lower directory");
  const parent = commonParent(dirs.lowers);
  const lowers = dirs.lowers.map((l) => relative(parent, l));
  let options = `lowerdir=${lowers.join(":")},upperdir=${dirs.upper},workdir=${dirs.work}`;
  if (indexEnabled()) options += ",index=off";
  if (options.length > MAX_OPTIONS)
    throw new RuntimeError(`too many layers to mount (${dirs.lowers.length})`);
  const r = await exec("mount", ["-t", "overlay", "overlay", "-o", options, dirs.target], {
    cwd: parent,
  });
  if (r.code !== 0) throw new RuntimeError(`error mounting the container's filesystem: ${r.stderr.trim()}`);
}

/** Unmounts a mount point if it is mounted (a no-op otherwise). */
export async function unmount(target: string, exec: Exec = execHelper): Promise<void> {
  if (!isMounted(target)) return;
  const r = await exec("umount", [target]);
  if (r.code !== 0 && isMounted(target)) {
    // Busy (a process still has a file open there): detach it, the kernel frees it when released.
    const lazy = await execHelper("umount", ["-l", target]);
    if (lazy.code !== 0 && isMounted(target))
      throw new RuntimeError(`unmounting ${target}: ${r.stderr.trim() || lazy.stderr.trim()}`);
  }
}

/** Mount points of this mount namespace (field 5 of /proc/self/mountinfo, octal escapes decoded). */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const field = line.split(" ")[4];
    if (field)
      out.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return out;
}

export function isMounted(target: string): boolean {
  return mountPoints().has(target);
}

function commonParent(paths: string[]): string {
  let parent = dirname(paths[0]!);
  while (!paths.every((p) => p.startsWith(`${parent}/`))) parent = dirname(parent);
  return parent;
}

let index: boolean | undefined;
function indexEnabled(): boolean {
  if (index === undefined) {
    try {
      index = readFileSync("/sys/module/overlay/parameters/index", "utf8").trim() === "Y";
    } catch {
      index = false;
    }
  }
  return index;
}
