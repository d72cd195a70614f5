import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { processStart } from "../liveness.js";
import { RuntimeError } from "./errors.js";
import type { CreatedContainer, CreateOptions } from "./oci-runtime.js";
import { startFailure } from "./start-errors.js";

/** The OCI runtime conmon runs: its program and its state directory. */
export interface RuntimeProgram {
  path: string;
  stateRoot: string;
}

/**
 * Creates a container under conmon, which runs `runtime create`, keeps the container's stdio and
 * writes its exit status (EXITDIR/ID) when it ends. Resolves once the runtime has created the
 * container (its pid known, its process waiting for `runtime start`).
 *
 * With a log (the "log" io), conmon double-forks away from us: it keeps the output in the
 * k8s-file log and serves the attach socket, so a detached container needs no Berth process while
 * it runs. With "pipes", conmon stays our child (`--sync`) and hands its own stdout and stderr to
 * the container (`passthrough`): the output comes to us as the process writes it, as with
 * `runc run`, and conmon's end is the container's.
 */
export function createUnderConmon(
  runtime: RuntimeProgram,
  opts: CreateOptions,
  conmon = "conmon",
): Promise<CreatedContainer> {
  const { io } = opts;
  const pidFile = join(opts.bundle, "pid");
  const conmonPidFile = join(opts.bundle, "conmon.pid");
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
    runtime.path,
    "--runtime-arg",
    `--root=${runtime.stateRoot}`,
    "-b",
    opts.bundle,
    "-p",
    pidFile,
    "-P",
    conmonPidFile,
    "--exit-dir",
    opts.exitDir,
    "--socket-dir-path",
    io.socketDir,
    "--log-level",
    "error",
  ];
  if (io.mode === "log") {
    // fsync of the log at exit costs milliseconds per container; a crash loses at most its last lines.
    args.push("-l", `k8s-file:${io.logPath}`, "--no-sync-log");
    if (io.stdin) args.push("-i");
    if (io.stdin && io.leaveStdinOpen) args.push("--leave-stdin-open");
    if (io.tty) args.push("-t");
  } else {
    args.push("-l", "passthrough", "--sync");
  }
  if (opts.exitCommand) {
    const [cmd, ...rest] = opts.exitCommand;
    args.push("--exit-command", cmd!);
    for (const a of rest) args.push("--exit-command-arg", a);
  }
  const pipes = io.mode === "pipes";
  return new Promise((resolve, reject) => {
    const child = spawn(conmon, args, {
      detached: true,
      stdio: ["ignore", pipes ? "pipe" : "ignore", "pipe", "pipe", "pipe"],
      env: { ...process.env, _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4" },
    });
    const sync = child.stdio[3] as Readable;
    const start = child.stdio[4] as Writable;
    // Until the container is created, stderr is conmon's and the runtime's (a failed create's
    // message, with passthrough); after, the container's own.
    let stderr = "";
    let created: CreatedContainer | undefined;
    let answer = "";
    let settled = false;
    const ended = new Promise<void>((done) => child.on("close", () => done()));
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      sync.destroy();
      if (!pipes) {
        child.stderr!.destroy();
        child.unref();
      }
      if (err) {
        // No exit command must run for a container that never ran.
        if (pipes) child.kill("SIGKILL");
        else killConmon(readPid(conmonPidFile));
        reject(err);
      } else resolve(created!);
    };
    child.stderr!.on("data", (d: Buffer) => {
      if (created && io.mode === "pipes") io.stderr.write(d);
      else stderr += d.toString();
    });
    if (io.mode === "pipes") child.stdout!.on("data", (d: Buffer) => io.stdout.write(d));
    child.on("error", (err) => finish(new RuntimeError(`cannot run conmon: ${err.message}`)));
    sync.on("data", (d: Buffer) => {
      answer += d.toString();
      const nl = answer.indexOf("\n");
      if (nl < 0 || created) return;
      const { data, message } = parseSyncMessage(answer.slice(0, nl));
      if (data <= 0) {
        finish(startFailure(runtimeMessage(message ?? "") || "runtime create failed"));
        return;
      }
      const monitorPid = pipes ? child.pid : readPid(conmonPidFile);
      created = {
        init: { pid: data, start: processStart(data) ?? null },
        monitor: monitorPid ? { pid: monitorPid, start: processStart(monitorPid) ?? null } : undefined,
        ...(pipes ? { ended } : {}),
      };
      finish(undefined);
    });
    sync.on("end", () => {
      if (created) return;
      // conmon went away without an answer: it failed before running the runtime, or (with
      // passthrough) the runtime's message is on stderr, complete once conmon has closed it.
      const fail = () =>
        finish(
          pipes && runtimeMessage(stderr)
            ? startFailure(runtimeMessage(stderr))
            : new RuntimeError(`conmon failed: ${stderr.trim() || "no answer on the sync pipe"}`),
        );
      if (pipes) void ended.then(fail);
      else setImmediate(fail);
    });
    sync.on("error", () => {});
    start.on("error", () => {});
    start.end("0");
  });
}

function readPid(path: string): number | undefined {
  try {
    return Number(readFileSync(path, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Kills the conmon of a pid file: not our child, so its pid is checked to be a conmon's still. */
function killConmon(pid: number | undefined): void {
  if (!pid) return;
  try {
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "conmon") return;
    process.kill(pid, "SIGKILL");
  } catch {}
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

/** runc logs errors as logfmt (`level=error msg="…"`) or plain text: keep the message. */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  const msgs = lines.map((l) => {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    return m ? m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, "\\") : l;
  });
  return msgs.at(-1) ?? "";
}
