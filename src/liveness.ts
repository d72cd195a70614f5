import { readFileSync } from "node:fs";

/**
 * Whether a process still runs, told by its pid and its start time together: after a crash and
 * a reboot, or just a long time, another process may have the pid. Locks, leases and container
 * records keep both.
 */

/** A process's start time (clock ticks after boot, /proc/PID/stat field 22), or undefined when it is gone. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // a zombie has exited
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Whether the process that had this pid and start time still runs (a reused pid does not count). */
export function isAlive(pid: number | null | undefined, start: number | null | undefined): boolean {
  if (!pid) return false;
  const now = processStart(pid);
  return now !== undefined && (start === null || start === undefined || start === 0 || now === start);
}
