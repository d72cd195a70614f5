import { accessSync, constants } from "node:fs";
import { basename, delimiter, isAbsolute, join } from "node:path";
import { RuntimeError } from "./errors.js";
import { type Exec, execHelper } from "./exec-file.js";
import { deleteStoppedState, startThroughExecFifo } from "./runc-state.js";

export interface RuntimeState {
  status: "creating" | "created" | "running" | "paused" | "stopped";
  pid: number;
}

/** The OCI runtime binary (runc by default, from the client config) and its state directory. */
export class OciRuntime {
  /** Absolute: conmon wants a path, not a name. */
  readonly path: string;

  constructor(
    runtime: string,
    readonly stateRoot: string,
  ) {
    this.path = lookPath(runtime);
  }

  private async call(args: string[]): Promise<string> {
    const r = await execHelper(this.path, [`--root=${this.stateRoot}`, ...args]);
    if (r.code !== 0) throw new RuntimeError(runtimeMessage(r.stderr) || `${this.path} ${args[0]} failed`);
    return r.stdout;
  }

  /** Lets a created container's process run; with runc, through its exec FIFO (see runc-state.ts) when `init` is known. */
  async start(id: string, init?: { pid: number; start: number | null }): Promise<void> {
    if (init && basename(this.path) === "runc" && (await startThroughExecFifo(this.stateRoot, id, init)))
      return;
    await this.call(["start", id]);
  }

  /** The runtime's view of a container, or undefined when it has none (never created, or deleted). */
  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await execHelper(this.path, [`--root=${this.stateRoot}`, "state", id]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as RuntimeState;
  }

  /** Sends a signal to the container's init process (`all`: to every process of it). */
  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.call(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  /** Removes the runtime's record and the container's cgroup; `force` kills what still runs. */
  async delete(id: string, force = false, exec: Exec = execHelper): Promise<void> {
    if (basename(this.path) === "runc" && deleteStoppedState(this.stateRoot, id)) return;
    const r = await exec(this.path, [
      `--root=${this.stateRoot}`,
      "delete",
      ...(force ? ["--force"] : []),
      id,
    ]);
    if (r.code !== 0 && !/does not exist|not exist/.test(r.stderr))
      throw new RuntimeError(runtimeMessage(r.stderr) || `${this.path} delete failed`);
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

/** runc logs errors as logfmt (`level=error msg="…"`) or plain text: keep the message. */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  const msgs = lines.map((l) => {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    return m ? m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, "\\") : l;
  });
  return msgs.at(-1) ?? "";
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
