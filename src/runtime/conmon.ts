import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { RuntimeError } from "./errors.js";
import { type OciRuntime, runtimeMessage } from "./runc.js";
import { startFailure } from "./start-errors.js";

export interface ConmonOptions {
  id: string;
  bundle: string;
  runtime: OciRuntime;
  /** conmon's own path (default: `conmon` on PATH). */
  conmon?: string;
  /** The container's stdout/stderr, in the k8s-file format. */
  logPath: string;
  /** conmon writes the exit status to EXITDIR/ID. */
  exitDir: string;
  /** Short directory for the attach socket's symlink (a unix socket path has 108 bytes). */
  socketDir: string;
  pidFile: string;
  conmonPidFile: string;
  stdin: boolean;
  /** Keep the container's stdin open when the last attached client leaves (`-d -i`). */
  leaveStdinOpen: boolean;
  tty: boolean;
  /** Run when the container exits: [program, ...args] (Berth's cleanup: records, unmount, restart policy). */
  exitCommand?: string[];
}

export interface Created {
  /** The container's init process, as the host sees it. */
  pid: number;
}

/**
 * Creates a container under conmon, which double-forks away from us, runs `runtime create`,
 * keeps the container's stdio (log file, attach socket), and writes its exit status when it
 * ends: a detached container needs no Berth process while it runs. Resolves once the runtime
 * has created the container (its pid known, its process waiting for `runtime start`).
 */
export function createUnderConmon(opts: ConmonOptions): Promise<Created> {
  const args = [
    "--api-version",
    "1",
    "-c",
    opts.id,
    "-u",
    opts.id,
    "-n",
    opts.id,
    "-r",
    opts.runtime.path,
    "--runtime-arg",
    `--root=${opts.runtime.stateRoot}`,
    "-b",
    opts.bundle,
    "-p",
    opts.pidFile,
    "-P",
    opts.conmonPidFile,
    "-l",
    `k8s-file:${opts.logPath}`,
    "--exit-dir",
    opts.exitDir,
    "--socket-dir-path",
    opts.socketDir,
    // fsync of the log at exit costs milliseconds per container; a crash loses at most its last lines.
    "--no-sync-log",
    "--log-level",
    "error",
  ];
  if (opts.stdin) args.push("-i");
  if (opts.stdin && opts.leaveStdinOpen) args.push("--leave-stdin-open");
  if (opts.tty) args.push("-t");
  if (opts.exitCommand) {
    const [cmd, ...rest] = opts.exitCommand;
    args.push("--exit-command", cmd!);
    for (const a of rest) args.push("--exit-command-arg", a);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(opts.conmon ?? "conmon", args, {
      detached: true,
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
      env: { ...process.env, _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" },
    });
    const sync = child.stdio[3] as Readable;
    const start = child.stdio[4] as Writable;
    let stderr = "";
    let answer = "";
    let settled = false;
    const finish = (err: Error | undefined, created?: Created) => {
      if (settled) return;
      settled = true;
      sync.destroy();
      child.stderr!.destroy();
      child.unref();
      if (err) reject(err);
      else resolve(created!);
    };
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (err) => finish(new RuntimeError(`cannot run conmon: ${err.message}`)));
    sync.on("data", (d: Buffer) => {
      answer += d.toString();
      const nl = answer.indexOf("\n");
      if (nl < 0) return;
      const { data, message } = parseSyncMessage(answer.slice(0, nl));
      if (data > 0) finish(undefined, { pid: data });
      else finish(startFailure(runtimeMessage(message ?? "") || "runtime create failed"));
    });
    sync.on("end", () => {
      // conmon went away without an answer: it failed before running the runtime.
      setImmediate(() =>
        finish(new RuntimeError(`conmon failed: ${stderr.trim() || "no answer on the sync pipe"}`)),
      );
    });
    sync.on("error", () => {});
    start.on("error", () => {});
    start.end("0");
  });
}

/** conmon's `{"data": N, "message": "…"}` (older versions leave quotes in the message unescaped). */
export function parseSyncMessage(line: string): { data: number; message?: string } {
  try {
    const v = JSON.parse(line) as { data: number; message?: string };
    return { data: Number(v.data), message: v.message };
  } catch {
    const data = /"data":\s*(-?\d+)/.exec(line);
    const message = /"message":\s*"(.*)"\s*}\s*$/.exec(line);
    return { data: data ? Number(data[1]) : -1, message: message?.[1] };
  }
}
