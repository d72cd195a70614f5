import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/*
 * A sandbox's cgroup directories, seen by Berth rather than through its runtime: runc makes them
 * (`berth-ID` under its caller's cgroup, in every hierarchy) before it writes its state, so a
 * runc killed part-way through create leaves them where `runc delete` no longer looks. The
 * starter's own cgroups are kept in the bundle (cgroup-parents), so whoever releases the sandbox
 * later, from whatever cgroup, finds the same directories.
 */

const CGROUP_ROOT = "/sys/fs/cgroup";

/** The directories of `berth-ID` under the cgroups of /proc/PID/cgroup's text: v1 hierarchies and the unified one. */
export function cgroupDirsFrom(
  procCgroup: string,
  name: string,
  root = CGROUP_ROOT,
  hybrid = true,
): string[] {
  const out: string[] = [];
  for (const line of procCgroup.trim().split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1) || "/";
    if (controllers === "") out.push(join(root, hybrid ? "unified" : "", path, name));
    else out.push(join(root, controllers.replace(/^name=/, ""), path, name));
  }
  return out;
}

/** The sandbox's cgroup directories: under the starter's cgroups (recorded at start), else ours. */
export function sandboxCgroupDirs(id: string, bundle: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(bundle, "cgroup-parents"), "utf8");
  } catch {
    text = readFileSync("/proc/self/cgroup", "utf8");
  }
  return cgroupDirsFrom(text, `berth-${id}`, CGROUP_ROOT, existsSync(join(CGROUP_ROOT, "unified")));
}

/** Kept at start: where runc, run by this process's children, makes the sandbox's cgroups. */
export function recordCgroupParents(bundle: string): void {
  writeFileSync(join(bundle, "cgroup-parents"), readFileSync("/proc/self/cgroup", "utf8"));
}

/** Whether the kernel's OOM killer killed a process of these cgroups (v1 memory.oom_control, v2 memory.events). */
export function oomKilled(dirs: string[]): boolean {
  for (const d of dirs) {
    for (const [file, key] of [
      ["memory.oom_control", "oom_kill"],
      ["memory.events", "oom_kill"],
    ] as const) {
      let text: string;
      try {
        text = readFileSync(join(d, file), "utf8");
      } catch {
        continue;
      }
      const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
      if (m && Number(m[1]) > 0) return true;
    }
  }
  return false;
}

/**
 * Removes cgroup directories a runtime left (its processes killed first: a `runc init` stopped
 * part-way). Child groups first. A directory that will not go after a few tries is left and
 * named in the result.
 */
export async function removeCgroupDirs(dirs: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    if (!(await removeTree(dir))) left.push(dir);
  }
  return left;
}

async function removeTree(dir: string): Promise<boolean> {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {}
  for (const c of children) await removeTree(c);
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY") return false;
    }
    for (const pid of procsOf(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    // A frozen group's processes die only once thawed.
    try {
      writeFileSync(join(dir, "freezer.state"), "THAWED");
    } catch {}
    await sleep(Math.min(5 * 2 ** attempt, 100));
  }
  return false;
}

function procsOf(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
