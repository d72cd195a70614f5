import type { Readable, Writable } from "node:stream";
import type { Exec } from "./exec-file.js";
import type { SpecProcess } from "./oci-spec.js";

/*
 * What Berth needs of an OCI runtime, after podman's libpod/oci.go OCIRuntime: a container is
 * created from a bundle under a monitor that keeps its stdio and writes its exit status (conmon),
 * then started, signalled, inspected, exec'd into, paused, and deleted. runc is the implementation
 * (runc.ts); the contract every implementation passes is test/runtime/oci-runtime-contract.ts.
 */

/** A process known by its pid and its start time (so a reused pid is not taken for it). */
export interface ProcessRef {
  pid: number;
  start: number | null;
}

export interface RuntimeState {
  status: "creating" | "created" | "running" | "paused" | "stopped";
  pid: number;
}

/** Where a container's stdio goes. */
export type ContainerIO =
  /**
   * Detached: stdout and stderr into a k8s-file log, stdin and the terminal through the attach
   * socket (SOCKETDIR/ID/attach); the monitor outlives whoever created the container.
   */
  | {
      mode: "log";
      logPath: string;
      socketDir: string;
      stdin: boolean;
      /** Keep the container's stdin open when the last attached client leaves (`-d -i`). */
      leaveStdinOpen: boolean;
      tty: boolean;
    }
  /** In the foreground: stdout and stderr written to these streams as they come, stdin empty. */
  | { mode: "pipes"; socketDir: string; stdout: Writable; stderr: Writable };

export interface CreateOptions {
  id: string;
  /** The OCI bundle: config.json, whose root.path is absolute. */
  bundle: string;
  /** The monitor writes the exit status to EXITDIR/ID, in decimal (128+N after signal N). */
  exitDir: string;
  io: ContainerIO;
  /** Run by the monitor once the container has exited and its status is written: [program, ...args]. */
  exitCommand?: string[];
}

export interface CreatedContainer {
  /** The container's init process as the host sees it, waiting for `start`. */
  init: ProcessRef;
  /** The monitor (conmon), which lives until the container has exited and its exit command ran. */
  monitor: ProcessRef | undefined;
  /** "pipes": resolves once the monitor has exited and all output has been written (the exit status is then known). */
  ended?: Promise<void>;
}

export interface ExecIO {
  /** The process's stdin; a stream with a descriptor (a terminal) is handed over as it is. Default: empty. */
  stdin?: Readable;
  /** Default: discarded. A stream with a descriptor is handed over as it is. */
  stdout?: Writable;
  stderr?: Writable;
  /** Returns once the process runs, its output discarded (`exec -d`); resolves to 0. */
  detach?: boolean;
}

export interface OciRuntime {
  /** The runtime's program: "runc", "crun", "youki" (absolute: the monitor wants a path). */
  readonly path: string;
  /** Where the runtime keeps its containers' state (its `--root`). */
  readonly stateRoot: string;

  /**
   * Creates the container of a bundle under a monitor; its process waits for `start`. A bundle
   * that is missing or invalid is a RuntimeError; a command that cannot be started is a
   * CommandStartError (126 or 127), as Docker reports them.
   */
  create(opts: CreateOptions): Promise<CreatedContainer>;
  /** Lets a created container's process run (`init`, when known, lets a runtime take a shortcut). */
  start(id: string, init?: ProcessRef): Promise<void>;
  /** The runtime's view of a container, or undefined when it has none (never created, or deleted). */
  state(id: string): Promise<RuntimeState | undefined>;
  /** Sends a signal to the container's init process (`all`: to every process of it). */
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  /**
   * Removes the runtime's record and the container's cgroups; `force` kills what still runs. A
   * container the runtime does not know is no error. `exec` runs the runtime's program (a
   * HelperBatch's, to run beside other helpers).
   */
  delete(id: string, opts?: { force?: boolean; exec?: Exec }): Promise<void>;
  /**
   * Runs a process in a running container's namespaces and cgroups (its user, environment, working
   * directory and capabilities as `process` says); resolves to its exit status. A command that
   * cannot be started is a CommandStartError (126 or 127).
   */
  exec(id: string, process: SpecProcess, io?: ExecIO): Promise<number>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** The host pids of the container's processes. */
  ps(id: string): Promise<number[]>;
}
