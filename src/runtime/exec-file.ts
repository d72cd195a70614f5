import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { RuntimeError } from "./errors.js";

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Something that runs a helper program: execHelper, or a HelperBatch's `exec`. */
export type Exec = (cmd: string, args: string[], opts?: { cwd?: string }) => Promise<ExecResult>;

/** Runs a helper program (runc, mount, ip) without a shell and collects what it prints. */
export function execHelper(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

interface Job {
  cmd: string;
  args: string[];
  cwd?: string;
  resolve: (r: ExecResult) => void;
  reject: (err: Error) => void;
}

/** Each job's stderr and exit status come back on a descriptor of its own: 3 to 9 (a shell redirects single digits). */
const MAX_JOBS = 7;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Helper programs that do not depend on each other (mount, ip netns, mkfifo, umount, runc
 * delete), run side by side by one shell: forking this process — large, as a Node process is —
 * costs a few milliseconds of its only thread each time, the shell's forks far less. Queue jobs
 * with `exec` (their stdout is not kept), then `flush`: a single job runs on its own.
 */
export class HelperBatch {
  private jobs: Job[] = [];

  readonly exec: Exec = (cmd, args, opts = {}) =>
    new Promise<ExecResult>((resolve, reject) => {
      this.jobs.push({ cmd, args, cwd: opts.cwd, resolve, reject });
    });

  flush(): void {
    const jobs = this.jobs;
    this.jobs = [];
    for (let i = 0; i < jobs.length; i += MAX_JOBS) runJobs(jobs.slice(i, i + MAX_JOBS));
  }
}

function runJobs(jobs: Job[]): void {
  if (jobs.length === 0) return;
  if (jobs.length === 1) {
    const [j] = jobs as [Job];
    execHelper(j.cmd, j.args, { cwd: j.cwd }).then(j.resolve, j.reject);
    return;
  }
  // Job i: its program's stderr, then a newline and its exit status, on descriptor 3+i.
  const script = jobs
    .map((j, i) => {
      const fd = 3 + i;
      const program = [j.cmd, ...j.args].map(quote).join(" ");
      const cd = j.cwd ? `cd ${quote(j.cwd)} && ` : "";
      return `{ (${cd}exec ${program}) </dev/null >/dev/null 2>&${fd}; printf '\\n%s' "$?" >&${fd}; } &`;
    })
    .concat("wait")
    .join("\n");
  const child = spawn("/bin/sh", ["-c", script], {
    stdio: ["ignore", "ignore", "pipe", ...jobs.map(() => "pipe" as const)],
  });
  let shellErr = "";
  child.stderr!.on("data", (d: Buffer) => {
    shellErr += d.toString();
  });
  const outputs = jobs.map((_, i) => {
    const stream = child.stdio[3 + i] as Readable;
    let text = "";
    stream.on("data", (d: Buffer) => {
      text += d.toString();
    });
    return () => text;
  });
  child.on("error", (err) => {
    for (const j of jobs) j.reject(err);
  });
  child.on("close", () => {
    jobs.forEach((j, i) => {
      const text = outputs[i]!();
      const nl = text.lastIndexOf("\n");
      const code = nl < 0 ? Number.NaN : Number(text.slice(nl + 1));
      if (!Number.isInteger(code)) {
        j.reject(new RuntimeError(`running ${j.cmd}: ${shellErr.trim() || "no exit status"}`));
        return;
      }
      j.resolve({ code, signal: null, stdout: "", stderr: text.slice(0, nl) });
    });
  });
}
