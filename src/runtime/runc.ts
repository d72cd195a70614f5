import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, isAbsolute, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { createUnderConmon, runtimeMessage } from "./conmon.js";
import { RuntimeError } from "./errors.js";
import { type Exec, execHelper } from "./exec-file.js";
import type {
  CreatedContainer,
  CreateOptions,
  ExecIO,
  OciRuntime,
  ProcessRef,
  RuntimeState,
} from "./oci-runtime.js";
import type { SpecProcess } from "./oci-spec.js";
import { deleteStoppedState, startThroughExecFifo } from "./runc-state.js";
import { startFailure } from "./start-errors.js";

export interface RuncOptions {
  /** conmon's path (default: `conmon` on PATH). */
  conmon?: string;
  /**
   * Do runc's `start` and the `delete` of a stopped container on its state files (runc-state.ts)
   * instead of running runc: by default only for a program named runc, whose layout they follow.
   */
  stateShortcuts?: boolean;
  /**
   * Where an exec's process spec is written for the moment runc reads it: named `exec-PID-…`, so
   * that under a store's tmp/ what a killed process left is swept. Default: the system's.
   */
  tmpDir?: string;
}

/**
 * The OCI runtime as runc's command line (runc 1.1; crun and youki take the same commands),
 * supervised by conmon. With runc itself, two commands are done on its state files instead of by
 * a runc process (runc-state.ts).
 */
export class Runc implements OciRuntime {
  /** Absolute: conmon wants a path, not a name. */
  readonly path: string;
  private readonly shortcuts: boolean;

  constructor(
    runtime: string,
    readonly stateRoot: string,
    private readonly opts: RuncOptions = {},
  ) {
    this.path = lookPath(runtime);
    this.shortcuts = opts.stateShortcuts ?? basename(this.path) === "runc";
  }

  private async call(args: string[]): Promise<string> {
    const r = await execHelper(this.path, [`--root=${this.stateRoot}`, ...args]);
    if (r.code !== 0) throw new RuntimeError(runtimeMessage(r.stderr) || `${this.path} ${args[0]} failed`);
    return r.stdout;
  }

  async create(opts: CreateOptions): Promise<CreatedContainer> {
    // Said here: runc's own words ("chdir …: no such file or directory") read as a missing command.
    if (!existsSync(join(opts.bundle, "config.json")))
      throw new RuntimeError(
        `cannot create container ${opts.id}: the bundle ${opts.bundle} has no config.json`,
      );
    return createUnderConmon(this, opts, this.opts.conmon);
  }

  async start(id: string, init?: ProcessRef): Promise<void> {
    if (init && this.shortcuts && (await startThroughExecFifo(this.stateRoot, id, init))) return;
    await this.call(["start", id]);
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await execHelper(this.path, [`--root=${this.stateRoot}`, "state", id]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as RuntimeState;
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.call(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  async delete(id: string, opts: { force?: boolean; exec?: Exec } = {}): Promise<void> {
    // No state directory: nothing to delete, and no process to run for it.
    if (!existsSync(join(this.stateRoot, id))) return;
    if (this.shortcuts && deleteStoppedState(this.stateRoot, id)) return;
    const r = await (opts.exec ?? execHelper)(this.path, [
      `--root=${this.stateRoot}`,
      "delete",
      ...(opts.force ? ["--force"] : []),
      id,
    ]);
    if (r.code !== 0 && !/does not exist|not exist/.test(r.stderr))
      throw new RuntimeError(runtimeMessage(r.stderr) || `${this.path} delete failed`);
  }

  /**
   * `runc exec --process FILE`: the whole process spec, written to a private file runc reads (a
   * pipe from Node is a socket, which /proc/self/fd cannot reopen); runc's own errors are logfmt
   * lines on stderr, the process's stderr passes through.
   */
  async exec(id: string, proc: SpecProcess, io: ExecIO = {}): Promise<number> {
    const dir = this.opts.tmpDir ?? tmpdir();
    mkdirSync(dir, { recursive: true });
    const specFile = join(dir, `exec-${process.pid}-${randomBytes(8).toString("hex")}.json`);
    writeFileSync(specFile, JSON.stringify(proc), { mode: 0o600, flag: "wx" });
    try {
      return await this.execProcess(id, specFile, io);
    } finally {
      rmSync(specFile, { force: true });
    }
  }

  private execProcess(id: string, specFile: string, io: ExecIO): Promise<number> {
    const args = [`--root=${this.stateRoot}`, "exec", "--process", specFile];
    if (io.detach) args.push("--detach");
    args.push(id);
    const handOver = (s: Readable | Writable | undefined) =>
      s && typeof (s as { fd?: unknown }).fd === "number" ? s : s ? "pipe" : "ignore";
    const child = spawn(this.path, args, {
      stdio: io.detach ? ["ignore", "ignore", "pipe"] : [handOver(io.stdin), handOver(io.stdout), "pipe"],
    });
    if (!io.detach) {
      if (io.stdin && child.stdin) {
        child.stdin.on("error", () => {});
        io.stdin.pipe(child.stdin);
      }
      if (io.stdout && child.stdout) child.stdout.pipe(io.stdout, { end: false });
    }
    return new Promise((resolve, reject) => {
      let runtimeErr = "";
      child.stderr!.on("data", (d: Buffer) => {
        const text = d.toString();
        if (/level=error msg=/.test(text)) runtimeErr += text;
        else io.stderr?.write(d);
      });
      child.on("error", (err) => reject(new RuntimeError(`cannot run ${this.path}: ${err.message}`)));
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (io.stdin && child.stdin) io.stdin.unpipe(child.stdin);
        if (runtimeErr)
          reject(startFailure(runtimeMessage(runtimeErr).replace(/^exec failed: /, ""), "exec"));
        else resolve(code ?? 128 + (signal ? 15 : 0));
      };
      if (io.detach) {
        // The detached process keeps runc's stderr open: runc's own end is the answer (what it
        // wrote before exiting is read first).
        child.on("exit", (code, signal) =>
          setImmediate(() => {
            child.stderr!.destroy();
            done(code, signal);
          }),
        );
      } else child.on("close", done);
    });
  }

  async pause(id: string): Promise<void> {
    await this.call(["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.call(["resume", id]);
  }

  async ps(id: string): Promise<number[]> {
    return JSON.parse(await this.call(["ps", "--format", "json", id])) as number[];
  }
}

/** A program's absolute path: as given when it has a slash, else the first executable on PATH. */
export function lookPath(name: string): string {
  if (name.includes("/")) return isAbsolute(name) ? name : join(process.cwd(), name);
  for (const dir of (
    process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  ).split(delimiter)) {
    const p = join(dir || ".", name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  throw new RuntimeError(
    `the OCI runtime "${name}" was not found on PATH (install runc, or set runtime: in ROOT/config.yaml)`,
  );
}
