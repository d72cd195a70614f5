import { writeFile } from "node:fs/promises";
import { run, runOk } from "../test/helpers/processes.js";

/** Wall time (GNU time's %e) and peak RSS (%M) of one command, which must succeed. */
export async function timed(
  cmd: string,
  argv: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ seconds: number; rssMB: number }> {
  const r = await run("/usr/bin/time", ["-f", "BENCH %e %M", cmd, ...argv], { env });
  if (r.code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  const m = /BENCH ([\d.]+) (\d+)/.exec(r.stderr)!;
  return { seconds: Number(m[1]), rssMB: Number(m[2]) / 1024 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Puts every measured command on the same footing: dirty pages written back and, as root, the
 * page cache dropped. On this kind of machine (a VM) a pull's system time grew from 1.3 s to 11 s
 * as earlier runs filled the page cache, so whichever peer ran later paid for the ones before.
 * What is in `warm` (files or directories) is read back afterwards: what the user's next command
 * would find in the page cache, without the cost of the pages no earlier command has touched.
 * Returns what it did, for the benchmark's header.
 */
export async function settle(warm: string[] = []): Promise<string> {
  await runOk("sync", []);
  if (process.getuid?.() !== 0) return "sync before each measured command (not root: page cache kept)";
  await writeFile("/proc/sys/vm/drop_caches", "3\n");
  for (const dir of warm)
    await runOk("sh", ["-c", 'find "$1" -type f -exec cat {} + >/dev/null', "warm", dir]);
  return `sync and drop_caches before each measured command${warm.length ? ", then what a rebuild finds cached read back" : ""}`;
}
