import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "../liveness.js";
import { ContainerPaths, runtimeStateDir } from "./paths.js";
import type { ContainerRecord, ContainerState } from "./records.js";

export interface Observed {
  state: ContainerState;
  exitCode: number;
  finishedAt: string | null;
  error: string;
  /** The record says running but the processes say otherwise: someone must clean up. */
  stale: boolean;
}

/** conmon's exit file: the status, and when it was written (the container's end). */
export function readExitFile(path: string): { code: number; at: string } | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    const code = Number.parseInt(text, 10);
    if (Number.isNaN(code)) return undefined;
    return { code, at: statSync(path).mtime.toISOString() };
  } catch {
    return undefined;
  }
}

/**
 * What is true of a container now, from its record and the machine: conmon's exit file, then
 * whether conmon or the container's process still runs. A record saying "running" is believed
 * only while one of them does, so `ps` tells the truth after a process is killed from outside,
 * after conmon dies, or after the machine restarted. No process is started and nothing written.
 */
export function observe(rec: ContainerRecord, paths: ContainerPaths): Observed {
  const same = {
    state: rec.state,
    exitCode: rec.exitCode,
    finishedAt: rec.finishedAt,
    error: rec.error,
    stale: false,
  };
  if (rec.state !== "running" && rec.state !== "restarting") return same;
  if (rec.state === "restarting" && isAlive(rec.lockPid, rec.lockStart)) return same;
  const exit = readExitFile(paths.exitFile);
  if (exit)
    return { state: "exited", exitCode: exit.code, finishedAt: exit.at, error: rec.error, stale: true };
  if (isAlive(rec.conmonPid, rec.conmonStart) || isAlive(rec.pid, rec.pidStart)) {
    // A start whose berth died between the record and the process's start: runc still holds
    // the process at its exec FIFO. It never ran; whoever comes next releases it.
    if (
      rec.lockPid !== null &&
      !isAlive(rec.lockPid, rec.lockStart) &&
      existsSync(join(runtimeStateDir(paths.root), rec.id, "exec.fifo"))
    )
      return { state: "created", exitCode: 0, finishedAt: null, error: "", stale: true };
    return same;
  }
  return {
    state: "exited",
    exitCode: 255,
    finishedAt: new Date().toISOString(),
    error: "the container's process and its monitor (conmon) are gone; its exit status is unknown",
    stale: true,
  };
}

/** A record with what is true now (see observe). */
export interface ContainerView extends ContainerRecord {
  observed: Observed;
}

export function viewOf(rec: ContainerRecord, root: string): ContainerView {
  return { ...rec, observed: observe(rec, new ContainerPaths(root, rec.id)) };
}
