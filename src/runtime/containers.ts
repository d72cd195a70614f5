import type { LocalStore } from "../images/local-store.js";
import { cleanupContainer, sweepContainers } from "./cleanup.js";
import { type CreateRequest, createContainer } from "./create.js";
import { NoSuchContainerError, RuntimeError } from "./errors.js";
import type { Handoff } from "./handoff.js";
import { validateName } from "./names.js";
import { type ContainerView, type Observed, viewOf } from "./observe.js";
import type { OciRuntime } from "./oci-runtime.js";
import { ContainerPaths, runtimeStateDir } from "./paths.js";
import { ContainerDb, type ContainerRecord } from "./records.js";
import { endAttachment, removeContainer } from "./remove.js";
import { Runc } from "./runc.js";
import { releaseSandbox } from "./sandbox.js";
import { type StartHooks, startContainer } from "./start.js";
import { killContainer, stopContainer, waitContainer, waitExit } from "./stop.js";

export type { CreateRequest } from "./create.js";
export type { ContainerView } from "./observe.js";
export type { StartHooks } from "./start.js";

export interface RuntimeOptions {
  /** The OCI runtime: a path or a name on PATH (the client config's `runtime`, default runc). */
  runtime?: string;
  conmon?: string;
  /** What conmon runs when a container exits: Berth's `container cleanup ID` (records, unmount, restart policy). */
  cleanupCommand?: (id: string) => string[];
  /** A static init for --init (default: Debian's tini-static). */
  initBinary?: string;
}

/**
 * The containers of one store: records in its database, files under ROOT/containers/ID, run
 * through the sandbox lifecycle (sandbox.ts) by an OCI runtime under conmon. Every operation that
 * changes a container holds its lock. The operations live in files of their own: create.ts,
 * start.ts, stop.ts (stop, kill, wait), remove.ts, cleanup.ts (conmon's exit command, restart
 * policies, the sweep).
 */
export class Containers {
  readonly db: ContainerDb;
  readonly runtime: OciRuntime;
  /** Containers this process started attached, by id (see handoff.ts). */
  readonly handoffs = new Map<string, Handoff>();

  constructor(
    readonly store: LocalStore,
    readonly opts: RuntimeOptions = {},
  ) {
    this.db = new ContainerDb(store.db.connection);
    this.runtime = new Runc(opts.runtime ?? "runc", runtimeStateDir(store.root), {
      conmon: opts.conmon,
      tmpDir: store.tmpDir(),
    });
  }

  paths(id: string): ContainerPaths {
    return new ContainerPaths(this.store.root, id);
  }

  /** The read-only directories under a container's own layer, topmost first: its init layer, then its image's layers. */
  lowerDirs(rec: ContainerRecord): string[] {
    return [
      this.paths(rec.id).init,
      ...this.store.db
        .imageLayers(rec.imageId)
        .map((l) => this.store.layerDiffDir(l.chainId))
        .reverse(),
    ];
  }

  view(rec: ContainerRecord): ContainerView {
    return viewOf(rec, this.store.root);
  }

  list(): ContainerView[] {
    return this.db.all().map((r) => this.view(r));
  }

  /** A container by full ID, exact name, or unique ID prefix, as Docker looks them up. */
  find(input: string): ContainerRecord {
    const name = input.replace(/^\//, "");
    const byId = /^[0-9a-f]{64}$/.test(input) ? this.db.get(input) : undefined;
    if (byId) return byId;
    const byName = this.db.byName(name);
    if (byName) return byName;
    if (/^[0-9a-f]+$/.test(input)) {
      const ids = this.db.idsByPrefix(input);
      if (ids.length === 1) return this.db.get(ids[0]!)!;
      if (ids.length > 1) throw new RuntimeError(`Multiple IDs found with provided prefix: ${input}`);
    }
    throw new NoSuchContainerError(input);
  }

  create(req: CreateRequest): Promise<ContainerRecord> {
    return createContainer(this, req);
  }

  /** Starts a created or stopped container (a running one is left as it is); see start.ts. */
  start(input: string, hooks: StartHooks = {}): Promise<ContainerRecord> {
    return startContainer(this, input, hooks);
  }

  /** Unmounts, stops slirp4netns, removes the network namespace and the runtime's record; each step is a no-op when done. */
  releaseResources(rec: ContainerRecord): Promise<void> {
    const slirp = rec.slirpPid ? { pid: rec.slirpPid, start: rec.slirpStart } : undefined;
    return releaseSandbox(this.runtime, rec.id, this.paths(rec.id), slirp);
  }

  /** Waits until the container is no longer running; resolves to its observed state. */
  waitExit(id: string, timeoutMs = Number.POSITIVE_INFINITY): Promise<Observed | undefined> {
    return waitExit(this, id, timeoutMs);
  }

  /** `stop`: the stop signal, then KILL after `timeout` seconds; the restart policy leaves it stopped. */
  stop(input: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    return stopContainer(this, input, timeoutSeconds, signal);
  }

  kill(input: string, signal = "KILL"): Promise<void> {
    return killContainer(this, input, signal);
  }

  /** `wait`: blocks until the container stops, then settles its record; resolves to its exit status. */
  wait(input: string): Promise<number> {
    return waitContainer(this, input);
  }

  remove(input: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return removeContainer(this, input, opts);
  }

  /** The attached caller is done with the container (see remove.ts). */
  endAttachment(id: string): Promise<void> {
    return endAttachment(this, id);
  }

  rename(input: string, name: string): void {
    const rec = this.find(input);
    this.db.rename(rec.id, validateName(name));
  }

  /** conmon's exit command: records the exit, frees, applies the restart policy or --rm (see cleanup.ts). */
  cleanup(id: string, opts: { restart?: boolean; autoRemove?: boolean } = {}): Promise<void> {
    return cleanupContainer(this, id, opts);
  }

  /** Unmounts and frees what containers left behind when the machine restarted or a berth process died. */
  sweep(): Promise<void> {
    return sweepContainers(this);
  }
}
