// What a test file has started that must not outlive it, and how to undo it without the event loop:
// used by processes.ts in its exit and signal hooks, and by reaper.ts once the file's process is
// gone. Imports nothing from node:test, so the reaper does not become a test file.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { sep } from "node:path";

export type Entry =
  /** A process group (a child spawned detached leads one): SIGKILLed. */
  | { kind: "group"; pgid: number }
  /** A command that undoes what runs outside our groups (`scripts/cluster.sh down DIR`, `berth rm -f`). */
  | { kind: "command"; argv: string[] }
  /** A temporary directory: whatever is mounted under it is detached, then it is removed. */
  | { kind: "dir"; path: string };

/** How long one teardown command may take on the exit path before it is abandoned. */
const COMMAND_LIMIT_MS = 120_000;

export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: the group is empty.
  }
}

/** Every process below `pid` in the process tree, found through /proc (breadth first). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Mount points at or under `dir`, deepest first (they are detached in that order). */
export function mountsUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  return info
    .split("\n")
    .map((line) => (line.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((m) => m === dir || m.startsWith(dir + sep))
    .sort((a, b) => b.length - a.length);
}

export function removeDirSync(dir: string): void {
  for (const m of mountsUnder(dir)) spawnSync("umount", ["-l", m], { stdio: "ignore" });
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    // Best effort on the way out.
  }
}

export function runCommandSync(argv: string[]): void {
  spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore", timeout: COMMAND_LIMIT_MS, killSignal: "SIGKILL" });
}

/**
 * Undoes everything in `entries` at once: kills the groups first (clients before the servers they
 * talk to), then, when `self` is given, every process still below it, then the commands and the
 * directories newest first (a store's containers go before its directory). `done` is told as each
 * entry is handled, so a watchdog reading the same registry does not repeat it.
 */
export function teardownSync(
  entries: [number, Entry][],
  opts: { self?: number; spare?: number[]; done?: (id: number) => void } = {},
): void {
  for (const [id, e] of entries) {
    if (e.kind !== "group") continue;
    killGroup(e.pgid);
    opts.done?.(id);
  }
  if (opts.self !== undefined) {
    for (const pid of descendants(opts.self)) {
      if (opts.spare?.includes(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  for (const [id, e] of entries.slice().reverse()) {
    if (e.kind === "command") runCommandSync(e.argv);
    else if (e.kind === "dir") removeDirSync(e.path);
    else continue;
    opts.done?.(id);
  }
}
