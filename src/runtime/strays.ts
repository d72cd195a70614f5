import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, processStart } from "../liveness.js";
import type { OciRuntime } from "./oci-runtime.js";

/*
 * Processes of a sandbox that nothing recorded: a berth killed part-way through a start leaves
 * slirp4netns serving the network namespace and conmon waiting on a container that never ran,
 * before their pids reached the container's record. A release finds them by what names them.
 */

/** Kills the slirp4netns processes of a sandbox: their command line names its API socket. */
export function killSlirpOf(apiSocket: string): number[] {
  const killed: number[] = [];
  for (const pid of pids()) {
    if (comm(pid) !== "slirp4netns") continue;
    if (!cmdline(pid).includes(`\0${apiSocket}\0`)) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {}
  }
  return killed;
}

/**
 * Kills the sandbox's conmon when its container never ran: no exit status was written and the
 * runtime has it only as created (or not at all). conmon then runs no exit command for it.
 */
export async function killStrandedMonitor(
  runtime: OciRuntime,
  id: string,
  bundle: string,
  exitFile: string,
): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(bundle, "conmon.pid"), "utf8").trim());
  } catch {
    return;
  }
  if (!pid || comm(pid) !== "conmon" || !cmdline(pid).includes(`\0${id}\0`)) return;
  try {
    readFileSync(exitFile);
    return;
  } catch {}
  const start = processStart(pid) ?? null;
  const state = await runtime.state(id);
  if (state && state.status !== "created") return;
  if (!isAlive(pid, start)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

function pids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function cmdline(pid: number): string {
  try {
    return `\0${readFileSync(`/proc/${pid}/cmdline`, "utf8")}`;
  } catch {
    return "";
  }
}
