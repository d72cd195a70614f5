import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { DEFAULT_PATH } from "./defaults.js";
import { makeInitLayer } from "./init-layer.js";
import { RUN_DIR } from "./paths.js";
import { Runc } from "./runc.js";
import {
  releaseSandbox,
  type SandboxPaths,
  type SandboxProcess,
  startSandbox,
  waitSandbox,
} from "./sandbox.js";
import type { SandboxSettings } from "./settings.js";
import { mergeEnv } from "./spec.js";
import type { BindMount } from "./spec-opts.js";

export interface EphemeralOptions {
  /** Read-only layer directories, topmost first (never written). */
  lowerDirs: string[];
  /** Receives every change the process makes (an empty directory for a fresh layer). */
  upperDir: string;
  /**
   * Scratch space on the same filesystem as upperDir: overlay's work directory, the bundle and
   * the mount point go here; it is removed afterwards.
   */
  scratchDir: string;
  args: string[];
  /** KEY=value entries over PATH's default. */
  env?: string[];
  /** `name|uid[:group|gid]`, resolved against the tree's own /etc/passwd and /etc/group. */
  user?: string;
  /** Absolute; created when missing, as Docker does. Default "/". */
  workdir?: string;
  /** "default": a private namespace with slirp4netns's NAT; "none": loopback only; "host": the host's. */
  network?: "none" | "host" | "default";
  hostname?: string;
  mounts?: BindMount[];
  /** The OCI runtime binary (default "runc"). */
  runtime?: string;
  /** Where the process's output goes; when omitted it is collected into the result. */
  stdout?: Writable;
  stderr?: Writable;
}

export interface EphemeralResult {
  /** The sandbox's name: its cgroup and network namespace were berth-ID. */
  id: string;
  exitCode: number;
  /** Collected output (empty when a stream was given for it). */
  stdout: Buffer;
  stderr: Buffer;
}

/** A build step's sandbox files: all in its scratch directory, but the layer it writes. */
function scratchPaths(scratch: string, upper: string, id: string): SandboxPaths & { init: string } {
  const exitDir = join(scratch, "exits");
  return {
    upper,
    work: join(scratch, "work"),
    merged: join(scratch, "merged"),
    init: join(scratch, "init"),
    bundle: join(scratch, "bundle"),
    hosts: join(scratch, "hosts"),
    hostname: join(scratch, "hostname"),
    resolvConf: join(scratch, "resolv.conf"),
    exitDir,
    exitFile: join(exitDir, id),
    // A unix socket's path is limited to 108 bytes, and the scratch directory's may be long.
    slirpSocket: join(RUN_DIR, `slirp-${id}.sock`),
    handoff: join(scratch, "handoff"),
  };
}

/**
 * Runs one process in a throwaway container over the given layers (a build's RUN step), through
 * the sandbox lifecycle every container goes through, but with no record, its output passed on as
 * it comes, and everything released when it ends: only the upper directory keeps the changes. The
 * exit status is the process's (128+N when killed by signal N); a process that cannot start
 * throws CommandStartError (exit status 126 or 127), a runtime failure RuntimeError.
 */
export async function runEphemeral(opts: EphemeralOptions): Promise<EphemeralResult> {
  // Its cgroup and network namespace are then berth-run-…, beside containers' berth-ID.
  const id = `run-${randomBytes(8).toString("hex")}`;
  const paths = scratchPaths(opts.scratchDir, opts.upperDir, id);
  for (const dir of [paths.merged, paths.work, paths.bundle, paths.exitDir, paths.upper])
    mkdirSync(dir, { recursive: true });
  const runtime = new Runc(opts.runtime ?? "runc", join(opts.scratchDir, "state"));
  const collected = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const sink = (chunks: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
  const settings: SandboxSettings = {
    hostname: opts.hostname ?? "berth",
    user: opts.user ?? "",
    env: mergeEnv([DEFAULT_PATH], opts.env ?? []),
    args: opts.args,
    workingDir: opts.workdir ?? "/",
    tty: false,
    openStdin: false,
    stdinOnce: false,
    network: opts.network ?? "none",
    ports: [],
    mounts: (opts.mounts ?? []).map((m) => ({ type: "bind", ...m })),
    limits: {},
    readOnly: false,
    init: false,
  };
  let proc: SandboxProcess | undefined;
  try {
    makeInitLayer(paths.init);
    proc = await startSandbox(runtime, {
      id,
      paths,
      lowers: [paths.init, ...opts.lowerDirs],
      settings,
      output: {
        stdout: opts.stdout ?? sink(collected.stdout),
        stderr: opts.stderr ?? sink(collected.stderr),
      },
    });
    const exitCode = await waitSandbox(proc, paths);
    return { id, exitCode, stdout: Buffer.concat(collected.stdout), stderr: Buffer.concat(collected.stderr) };
  } finally {
    // A start that failed released what it had made.
    if (proc) await releaseSandbox(runtime, id, paths, proc.slirp);
    await rm(opts.scratchDir, { recursive: true, force: true });
  }
}
