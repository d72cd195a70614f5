import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { imageConfig } from "../images/describe.js";
import type { LocalStore } from "../images/local-store.js";
import { isAlive, processStart } from "../liveness.js";
import type { ContainerConfig } from "../oci/manifest.js";
import { createUnderConmon } from "./conmon.js";
import { ContainerConflictError, NoSuchContainerError, RuntimeError } from "./errors.js";
import { HelperBatch } from "./exec-file.js";
import { Handoff, handoffCommand, makeHandoffFifo } from "./handoff.js";
import { makeInitLayer } from "./init-layer.js";
import { withContainerLock } from "./lock.js";
import type { MountRequest } from "./mounts.js";
import { generateName, validateName } from "./names.js";
import {
  addPortForward,
  createNetns,
  deleteNetns,
  freeHostPort,
  hostsFile,
  netnsPath,
  resolvConf,
  SLIRP_ADDRESS,
  startSlirp,
} from "./network.js";
import { type ContainerView, type Observed, observe, viewOf } from "./observe.js";
import { isMounted, mountOverlay, unmount } from "./overlay.js";
import { ContainerPaths, runtimeStateDir, SOCKET_DIR, volumesDir } from "./paths.js";
import type { PortBinding } from "./ports.js";
import { resolveUserInRoot } from "./process-user.js";
import { ContainerDb, type ContainerRecord } from "./records.js";
import { OciRuntime } from "./runc.js";
import type { Attach, ContainerSettings, MountSetting, RestartPolicy } from "./settings.js";
import { parseSignal } from "./signals.js";
import {
  buildSpec,
  configEnv,
  containerCommand,
  containerEnv,
  type Limits,
  type ProcessFlags,
} from "./spec.js";

export interface RuntimeOptions {
  /** The OCI runtime: a path or a name on PATH (the client config's `runtime`, default runc). */
  runtime?: string;
  conmon?: string;
  /** What conmon runs when a container exits: Berth's `container cleanup ID` (records, unmount, restart policy). */
  cleanupCommand?: (id: string) => string[];
  /** A static init for --init (Debian's tini). */
  initBinary?: string;
}

export interface CreateRequest {
  imageId: string;
  /** The image as the user named it. */
  image: string;
  name?: string;
  process: ProcessFlags;
  openStdin?: boolean;
  stdinOnce?: boolean;
  hostname?: string;
  network?: "none" | "host" | "default";
  publish?: PortBinding[];
  mounts?: (MountRequest & { createSource?: boolean })[];
  limits?: Limits;
  readOnly?: boolean;
  init?: boolean;
  restartPolicy?: RestartPolicy;
  autoRemove?: boolean;
  labels?: Record<string, string>;
  platform?: string;
  stopSignal?: string;
  stopTimeout?: number;
  /** The streams the caller attaches (inspect's Config.Attach*); default stdout and stderr, stdin with openStdin. */
  attach?: Attach;
}

export interface StartHooks {
  /** Called once the process exists and before it runs: attach to its output here. */
  beforeRun?: (rec: ContainerRecord, paths: ContainerPaths) => Promise<void> | void;
  /**
   * The caller follows the container to its exit and then cleans up itself (`followToExit`,
   * then `endAttachment`): conmon's exit command runs the cleanup command only if the caller is
   * gone by then. Otherwise (detached) conmon always runs it.
   */
  attached?: boolean;
}

export type { ContainerView } from "./observe.js";

const DEFAULT_INIT = "/usr/bin/tini-static";

/**
 * The containers of one store: records in its database, files under ROOT/containers/ID, run by
 * an OCI runtime under conmon. Every operation that changes a container holds its lock.
 */
export class Containers {
  readonly db: ContainerDb;
  readonly runtime: OciRuntime;
  /** Containers this process started attached, by id. */
  private readonly handoffs = new Map<string, Handoff>();

  constructor(
    readonly store: LocalStore,
    readonly opts: RuntimeOptions = {},
  ) {
    this.db = new ContainerDb(store.db.connection);
    this.runtime = new OciRuntime(opts.runtime ?? "runc", runtimeStateDir(store.root));
  }

  paths(id: string): ContainerPaths {
    return new ContainerPaths(this.store.root, id);
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

  // ---- create ------------------------------------------------------------------------------

  async create(req: CreateRequest): Promise<ContainerRecord> {
    const config = await imageConfig(this.store, req.imageId);
    const image: ContainerConfig = config.config ?? {};
    const id = randomBytes(32).toString("hex");
    const hostname = req.hostname ?? id.slice(0, 12);
    const args = containerCommand(image, req.process);
    const settings: ContainerSettings = {
      hostname,
      user: req.process.user ?? image.User ?? "",
      env: containerEnv(image, req.process, hostname),
      args,
      entrypoint:
        req.process.entrypoint !== undefined
          ? req.process.entrypoint
            ? [req.process.entrypoint]
            : null
          : (image.Entrypoint ?? null),
      cmd:
        req.process.cmd.length > 0
          ? req.process.cmd
          : req.process.entrypoint !== undefined
            ? null
            : (image.Cmd ?? null),
      workingDir: req.process.workdir ?? image.WorkingDir ?? "",
      tty: req.process.tty,
      openStdin: req.openStdin ?? false,
      stdinOnce: req.stdinOnce ?? false,
      labels: { ...(image.Labels ?? {}), ...(req.labels ?? {}) },
      stopSignal: req.stopSignal ?? image.StopSignal ?? "SIGTERM",
      stopTimeout: req.stopTimeout ?? 10,
      exposedPorts: Object.keys(image.ExposedPorts ?? {}),
      network: req.network ?? "default",
      ports: req.network === "host" || req.network === "none" ? [] : (req.publish ?? []),
      mounts: [],
      limits: req.limits ?? {},
      readOnly: req.readOnly ?? false,
      init: req.init ?? false,
      restartPolicy: req.restartPolicy ?? { name: "no", maximumRetryCount: 0 },
      autoRemove: req.autoRemove ?? false,
      platform: `${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ""}`,
      given: {
        env: configEnv(image, req.process),
        ...((req.stopSignal ?? image.StopSignal) ? { stopSignal: req.stopSignal ?? image.StopSignal } : {}),
        ...(req.stopTimeout !== undefined ? { stopTimeout: req.stopTimeout } : {}),
        attach: req.attach ?? { stdin: req.openStdin ?? false, stdout: true, stderr: true },
      },
    };
    parseSignal(settings.stopSignal);
    if (settings.workingDir && !settings.workingDir.startsWith("/"))
      throw new RuntimeError(
        `the working directory '${settings.workingDir}' is invalid, it needs to be an absolute path`,
      );
    if (settings.init && !existsSync(this.opts.initBinary ?? DEFAULT_INIT))
      throw new RuntimeError(`--init needs ${this.opts.initBinary ?? DEFAULT_INIT} (Debian package tini)`);
    const paths = this.paths(id);
    settings.mounts = await this.prepareMounts(req.mounts ?? []);
    let name = req.name !== undefined ? validateName(req.name) : undefined;
    if (!name) {
      for (let i = 0; i < 10 && !name; i++) {
        const candidate = generateName(i);
        if (!this.db.byName(candidate)) name = candidate;
      }
    }
    const rec: ContainerRecord = {
      id,
      name: name!,
      imageId: req.imageId,
      image: req.image,
      settings,
      state: "created",
      pid: null,
      pidStart: null,
      conmonPid: null,
      conmonStart: null,
      slirpPid: null,
      slirpStart: null,
      exitCode: 0,
      error: "",
      created: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      restartCount: 0,
      stoppedByUser: false,
      lockPid: null,
      lockStart: null,
    };
    // The image must still exist when the record lands: rmi checks for containers in its own transaction.
    this.db.write(() => {
      if (!this.store.db.image(req.imageId)) throw new RuntimeError(`No such image: ${req.image}`);
      this.db.insert(rec);
    });
    try {
      // Synchronous calls: a dozen tiny operations cost less than their threadpool round trips.
      for (const dir of [paths.upper, paths.work, paths.merged, paths.bundle, paths.exitDir])
        mkdirSync(dir, { recursive: true });
      makeInitLayer(paths.init, { init: settings.init });
    } catch (err) {
      await rm(paths.dir, { recursive: true, force: true });
      this.db.write(() => this.db.delete(id));
      throw err;
    }
    return rec;
  }

  private async prepareMounts(reqs: (MountRequest & { createSource?: boolean })[]): Promise<MountSetting[]> {
    const out: MountSetting[] = [];
    for (const m of reqs) {
      if (m.type === "bind") {
        if (!existsSync(m.source)) {
          if (!m.createSource)
            throw new RuntimeError(
              `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
            );
          await mkdir(m.source, { recursive: true });
        }
        out.push({
          type: "bind",
          source: m.source,
          destination: m.destination,
          readOnly: m.readOnly,
          ...given(m),
        });
      } else {
        const name = m.source || randomBytes(32).toString("hex");
        const dir = join(volumesDir(this.store.root), name, "_data");
        await mkdir(dir, { recursive: true });
        this.db.write(() => this.db.addVolume(name));
        out.push({
          type: "volume",
          name,
          source: dir,
          destination: m.destination,
          readOnly: m.readOnly,
          ...given(m),
        });
      }
    }
    return out;
  }

  // ---- start -------------------------------------------------------------------------------

  async start(input: string, hooks: StartHooks = {}): Promise<ContainerRecord> {
    const rec = this.find(input);
    return withContainerLock(this.db, rec.id, async () => {
      const current = this.db.get(rec.id);
      if (!current) throw new NoSuchContainerError(input);
      const seen = observe(current, this.paths(current.id));
      if (seen.state === "running") return current;
      if (seen.stale) await this.settle(current, seen);
      return this.startLocked(this.db.get(rec.id)!, hooks);
    });
  }

  /** Records the end of a container whose record still says running, and frees what it held. */
  private async settle(rec: ContainerRecord, seen: Observed): Promise<void> {
    await this.releaseResources(rec);
    this.db.write(() =>
      this.db.update(rec.id, {
        state: "exited",
        exitCode: seen.exitCode,
        finishedAt: seen.finishedAt,
        error: seen.error,
        pid: null,
        conmonPid: null,
        slirpPid: null,
      }),
    );
  }

  /** Unmounts, stops slirp4netns, removes the network namespace and the runtime's record; each step is a no-op when done. */
  async releaseResources(rec: ContainerRecord): Promise<void> {
    const paths = this.paths(rec.id);
    if (rec.slirpPid && isAlive(rec.slirpPid, rec.slirpStart)) {
      try {
        process.kill(rec.slirpPid, "SIGKILL");
      } catch {}
    }
    // conmon removes its attach-socket symlink when it exits cleanly; not when it was killed.
    const batch = new HelperBatch();
    const pending = Promise.allSettled([
      existsSync(netnsPath(rec.id)) ? deleteNetns(rec.id, batch.exec) : undefined,
      existsSync(join(this.runtime.stateRoot, rec.id))
        ? this.runtime.delete(rec.id, true, batch.exec)
        : undefined,
      unmount(paths.merged, batch.exec),
    ]);
    batch.flush();
    rmSync(paths.slirpSocket, { force: true });
    rmSync(join(SOCKET_DIR, rec.id), { force: true });
    const steps = await pending;
    for (const r of steps) if (r.status === "rejected") throw r.reason;
  }

  private async startLocked(rec: ContainerRecord, hooks: StartHooks): Promise<ContainerRecord> {
    const paths = this.paths(rec.id);
    const s = rec.settings;
    let slirp: { pid: number } | undefined;
    let network: Promise<void> | undefined;
    let conmonPid: number | null = null;
    let handoff: Handoff | undefined;
    const cleanup = this.opts.cleanupCommand?.(rec.id);
    const attached = Boolean(hooks.attached && cleanup);
    try {
      mkdirSync(SOCKET_DIR, { recursive: true });
      const lowers = [
        paths.init,
        ...this.store.db
          .imageLayers(rec.imageId)
          .map((l) => this.store.layerDiffDir(l.chainId))
          .reverse(),
      ];
      let ports = s.ports;
      // ip netns, mount and mkfifo run side by side in one shell (see HelperBatch).
      const batch = new HelperBatch();
      const netns = s.network === "default" ? createNetns(rec.id, batch.exec) : undefined;
      // slirp4netns and the port forwards come up while the rootfs is mounted and the runtime
      // creates the container: only the process's start waits for them.
      network = netns?.then(async (ns) => {
        const child = startSlirp(ns, paths.slirpSocket);
        if (child.pid) slirp = { pid: child.pid };
        await child.ready;
        ports = [];
        for (const p of s.ports) {
          const bound = { ...p, hostPort: p.hostPort || (await freeHostPort(p.hostIp)) };
          await addPortForward(paths.slirpSocket, bound);
          ports.push(bound);
        }
      });
      network?.catch(() => {});
      const rootfs = async () => {
        if (!isMounted(paths.merged))
          await mountOverlay(
            { lowers, upper: paths.upper, work: paths.work, target: paths.merged },
            batch.exec,
          );
      };
      const helpers = [netns, rootfs(), attached ? makeHandoffFifo(paths.handoff, batch.exec) : undefined];
      batch.flush();
      // While the helpers run: the container's /etc files, and no exit file of a previous run.
      writeFileSync(
        paths.hosts,
        s.network === "host"
          ? readText("/etc/hosts")
          : hostsFile(s.hostname, s.network === "default" ? SLIRP_ADDRESS : undefined),
      );
      writeFileSync(paths.hostname, `${s.hostname}\n`);
      writeFileSync(
        paths.resolvConf,
        resolvConf(readText("/etc/resolv.conf"), s.network === "default" ? "private" : s.network),
      );
      rmSync(paths.exitFile, { force: true });
      const settled = await Promise.allSettled(helpers);
      for (const r of settled) if (r.status === "rejected") throw r.reason;
      const user = await resolveUserInRoot(paths.merged, s.user);
      const spec = buildSpec({
        rootfs: paths.merged,
        args: s.args,
        env: s.env,
        cwd: s.workingDir || "/",
        user,
        hostname: s.hostname,
        tty: s.tty,
        readOnly: s.readOnly,
        init: s.init ? (this.opts.initBinary ?? DEFAULT_INIT) : undefined,
        network: s.network === "default" ? "private" : s.network,
        etc: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
        mounts: s.mounts.map((m) => ({ source: m.source, destination: m.destination, readOnly: m.readOnly })),
        limits: s.limits,
        cgroupsPath: `berth-${rec.id}`,
      });
      if (netns) {
        const path = netnsPath(rec.id);
        spec.linux.namespaces = spec.linux.namespaces.map((n) =>
          n.type === "network" ? { type: n.type, path } : n,
        );
      }
      writeFileSync(join(paths.bundle, "config.json"), JSON.stringify(spec));
      if (existsSync(join(this.runtime.stateRoot, rec.id))) await this.runtime.delete(rec.id, true);
      if (attached) handoff = new Handoff(paths.handoff);
      const [createdBy, networkBy] = await Promise.allSettled([
        createUnderConmon({
          id: rec.id,
          bundle: paths.bundle,
          runtime: this.runtime,
          conmon: this.opts.conmon,
          logPath: paths.log,
          exitDir: paths.exitDir,
          socketDir: SOCKET_DIR,
          pidFile: join(paths.bundle, "pid"),
          conmonPidFile: join(paths.bundle, "conmon.pid"),
          stdin: s.openStdin,
          leaveStdinOpen: !s.stdinOnce,
          tty: s.tty,
          exitCommand: handoff && cleanup ? handoffCommand(paths.handoff, cleanup) : cleanup,
        }),
        network,
      ]);
      if (createdBy.status === "rejected") throw createdBy.reason;
      conmonPid = Number(readText(join(paths.bundle, "conmon.pid")).trim()) || null;
      if (networkBy.status === "rejected") throw networkBy.reason;
      const created = createdBy.value;
      const update = {
        state: "running" as const,
        pid: created.pid,
        pidStart: processStart(created.pid) ?? null,
        conmonPid,
        conmonStart: conmonPid ? (processStart(conmonPid) ?? null) : null,
        slirpPid: slirp?.pid ?? null,
        slirpStart: slirp ? (processStart(slirp.pid) ?? null) : null,
        exitCode: 0,
        error: "",
        startedAt: new Date().toISOString(),
        // FinishedAt keeps the end of the previous run while this one lasts, as Docker's does.
        stoppedByUser: false,
        settings: { ...s, ports },
      };
      // Recorded before the process runs, so a fast exit is seen by whoever cleans up.
      this.db.write(() => this.db.update(rec.id, update));
      const running = { ...rec, ...update };
      if (handoff) {
        handoff.monitor.pid = update.conmonPid;
        handoff.monitor.start = update.conmonStart;
        this.handoffs.set(rec.id, handoff);
      }
      await hooks.beforeRun?.(running, paths);
      await this.runtime.start(rec.id, { pid: created.pid, start: update.pidStart });
      return running;
    } catch (err) {
      this.handoffs.delete(rec.id);
      handoff?.close();
      // Whatever came up is taken down: slirp4netns once it is known, conmon before the
      // container (so that it runs no exit command for a container that never ran).
      await network?.catch(() => {});
      if (conmonPid) {
        try {
          process.kill(conmonPid, "SIGKILL");
        } catch {}
      }
      const failed = {
        ...rec,
        slirpPid: slirp?.pid ?? null,
        slirpStart: slirp ? (processStart(slirp.pid) ?? null) : null,
      };
      await this.releaseResources(failed).catch(() => {});
      const code = (err as { exitCode?: number }).exitCode;
      this.db.write(() =>
        this.db.update(rec.id, {
          state: rec.startedAt ? "exited" : "created",
          pid: null,
          conmonPid: null,
          slirpPid: null,
          exitCode: code === 126 || code === 127 ? code : 128,
          error: (err as Error).message,
        }),
      );
      throw err;
    }
  }

  // ---- stop, kill, wait --------------------------------------------------------------------

  /** Waits until the container is no longer running; resolves to its observed state. */
  async waitExit(id: string, timeoutMs = Number.POSITIVE_INFINITY): Promise<Observed | undefined> {
    const paths = this.paths(id);
    const deadline = Date.now() + timeoutMs;
    let watcher: ReturnType<typeof watch> | undefined;
    let wake: (() => void) | undefined;
    try {
      watcher = watch(paths.exitDir, () => wake?.());
    } catch {}
    try {
      for (;;) {
        const rec = this.db.get(id);
        if (!rec) return undefined;
        const seen = observe(rec, paths);
        if (seen.state !== "running" && seen.state !== "restarting") return seen;
        const left = deadline - Date.now();
        if (left <= 0) return seen;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(left, 100)).unref?.();
        });
      }
    } finally {
      watcher?.close();
    }
  }

  /** `stop`: the stop signal, then KILL after `timeout` seconds; the restart policy leaves it stopped. */
  async stop(input: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const rec = this.find(input);
    await withContainerLock(this.db, rec.id, async () => {
      const current = this.db.get(rec.id)!;
      this.db.write(() => this.db.update(rec.id, { stoppedByUser: true }));
      const seen = observe(current, this.paths(rec.id));
      if (seen.state === "running") {
        const sig = parseSignal(signal ?? current.settings.stopSignal);
        const timeout = (timeoutSeconds ?? current.settings.stopTimeout) * 1000;
        let last = sig;
        await this.signal(current, sig, false).catch(() => {});
        let after = timeout > 0 ? await this.waitExit(rec.id, timeout) : seen;
        if (!after || after.state === "running") {
          last = 9;
          await this.signal(current, 9, true).catch(() => {});
          after = await this.waitExit(rec.id, 10_000);
        }
        if (after?.state === "running")
          throw new RuntimeError(`container ${rec.id.slice(0, 12)} did not stop`);
        await this.settle(current, unsupervisedExit(after!, last));
      } else if (seen.stale) await this.settle(current, seen);
    });
  }

  /** Sends a signal through the runtime, or straight to the process when the runtime lost track of it. */
  private async signal(rec: ContainerRecord, sig: number, all: boolean): Promise<void> {
    try {
      await this.runtime.kill(rec.id, sig, all);
    } catch (err) {
      if (!isAlive(rec.pid, rec.pidStart)) throw err;
      process.kill(rec.pid!, sig);
    }
  }

  async kill(input: string, signal = "KILL"): Promise<void> {
    const rec = this.find(input);
    const sig = parseSignal(signal);
    const seen = observe(rec, this.paths(rec.id));
    if (seen.state !== "running")
      throw new ContainerConflictError(`Cannot kill container: ${input}: Container ${rec.id} is not running`);
    if (sig === 9 || sig === 15 || sig === parseSignal(rec.settings.stopSignal))
      this.db.write(() => this.db.update(rec.id, { stoppedByUser: true }));
    await this.signal(rec, sig, false);
  }

  /** `wait`: blocks until the container stops, then settles its record; resolves to its exit status. */
  async wait(input: string): Promise<number> {
    const rec = this.find(input);
    const seen = await this.waitExit(rec.id);
    if (!seen) return rec.exitCode;
    if (seen.stale) await this.cleanup(rec.id, { restart: false, autoRemove: false }).catch(() => {});
    return seen.exitCode;
  }

  // ---- remove ------------------------------------------------------------------------------

  async remove(input: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.find(input);
    const conmon = await withContainerLock(this.db, rec.id, async () => {
      const current = this.db.get(rec.id);
      if (!current) return;
      const seen = observe(current, this.paths(rec.id));
      if ((seen.state === "running" || seen.state === "restarting") && !opts.force)
        throw new ContainerConflictError(
          `cannot remove container "/${current.name}": container is running: stop the container before removing or force remove`,
        );
      if (seen.state === "running") {
        this.db.write(() => this.db.update(rec.id, { stoppedByUser: true }));
        await this.signal(current, 9, true).catch(() => {});
        const after = await this.waitExit(rec.id, 10_000);
        if (after?.state === "running")
          throw new RuntimeError(`container ${rec.id.slice(0, 12)} could not be killed`);
      }
      await this.releaseResources(current);
      const paths = this.paths(rec.id);
      if (isMounted(paths.merged))
        throw new RuntimeError(
          `cannot remove container ${rec.id.slice(0, 12)}: its filesystem is still mounted`,
        );
      // Synchronously: for a tree this small, about half the time of fs.promises.rm's round trips.
      rmSync(paths.dir, { recursive: true, force: true });
      this.db.write(() => this.db.delete(rec.id));
      if (opts.volumes) {
        for (const m of current.settings.mounts) {
          if (m.type === "volume" && m.name && /^[0-9a-f]{64}$/.test(m.name)) {
            await rm(join(volumesDir(this.store.root), m.name), { recursive: true, force: true });
            this.db.write(() => this.db.deleteVolume(m.name!));
          }
        }
      }
      return current.conmonPid ? { pid: current.conmonPid, start: current.conmonStart } : undefined;
    });
    await this.endAttachment(rec.id);
    // conmon lives until its exit command (our cleanup, which waited for the lock) is done: moments.
    await waitGone(conmon);
  }

  /**
   * The attached caller is done with the container (it followed it to its exit, then cleaned
   * up or removed it): conmon's exit command is told it has nothing left to do — unless a
   * restart policy or --rm still applies, or the record still says running — and conmon is
   * waited for, so that no process of the container outlives the caller.
   */
  async endAttachment(id: string): Promise<void> {
    const handoff = this.handoffs.get(id);
    if (!handoff) return;
    this.handoffs.delete(id);
    const rec = this.db.get(id);
    const settled =
      !rec ||
      (rec.state !== "running" &&
        rec.state !== "restarting" &&
        !rec.settings.autoRemove &&
        !shouldRestart(rec));
    if (settled) {
      handoff.done();
      await waitGone(handoff.monitor);
    }
    handoff.close();
  }

  rename(input: string, name: string): void {
    const rec = this.find(input);
    this.db.rename(rec.id, validateName(name));
  }

  // ---- cleanup (conmon's exit command) and restart policies --------------------------------

  /**
   * Runs when a container exited: records its status, frees its mount and network, then applies
   * its restart policy (Docker's: on-failure[:N] and always/unless-stopped unless stopped by the
   * user; 100 ms doubling backoff) or removes it (--rm).
   */
  async cleanup(id: string, opts: { restart?: boolean; autoRemove?: boolean } = {}): Promise<void> {
    const rec = this.db.get(id);
    if (!rec) return;
    const restart = await withContainerLock(this.db, id, async () => {
      const current = this.db.get(id);
      if (!current) return false;
      const seen = observe(current, this.paths(id));
      if (seen.state === "running") return false;
      if (seen.stale) await this.settle(current, seen);
      const done = this.db.get(id)!;
      if (opts.restart !== false && shouldRestart(done)) {
        this.db.write(() => this.db.update(id, { state: "restarting" }));
        return true;
      }
      return false;
    });
    const after = this.db.get(id);
    if (!after) return;
    if (restart) {
      const delay = Math.min(100 * 2 ** after.restartCount, 60_000);
      await sleep(delay);
      await withContainerLock(this.db, id, async () => {
        const current = this.db.get(id);
        if (current?.state !== "restarting" || current.stoppedByUser) {
          if (current?.state === "restarting") this.db.write(() => this.db.update(id, { state: "exited" }));
          return;
        }
        this.db.write(() => this.db.update(id, { restartCount: current.restartCount + 1 }));
        await this.startLocked({ ...current, restartCount: current.restartCount + 1 }, {}).catch(() => {});
      });
      return;
    }
    if (opts.autoRemove !== false && after.settings.autoRemove && after.state !== "running")
      await this.remove(id, { force: true, volumes: true });
  }

  /** Unmounts and frees what containers left behind when the machine restarted or a berth process died. */
  async sweep(): Promise<void> {
    for (const rec of this.db.all()) {
      if (isAlive(rec.lockPid, rec.lockStart)) continue;
      const seen = observe(rec, this.paths(rec.id));
      if (seen.stale) await this.cleanup(rec.id).catch(() => {});
    }
  }
}

/** How a mount was asked for, kept for inspect. */
function given(m: MountRequest): Pick<MountSetting, "flag" | "spec"> {
  return { ...(m.flag ? { flag: m.flag } : {}), ...(m.spec ? { spec: m.spec } : {}) };
}

/**
 * Waits (up to 5 s) for a process that is not our child to exit: polled, first every
 * millisecond (conmon usually exits a few ms after its exit command), then less often.
 */
async function waitGone(p: { pid: number | null; start: number | null } | undefined): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let delay = 1; p && isAlive(p.pid, p.start) && Date.now() < deadline; delay = Math.min(delay * 2, 20))
    await sleep(delay);
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Without conmon's exit file, a container we killed ends with the signal's status. */
function unsupervisedExit(seen: Observed, lastSignal: number): Observed {
  if (seen.exitCode !== 255 || !seen.error) return seen;
  return { ...seen, exitCode: 128 + lastSignal, error: "" };
}

export function shouldRestart(rec: ContainerRecord): boolean {
  const p = rec.settings.restartPolicy;
  if (rec.stoppedByUser || p.name === "no") return false;
  if (p.name === "on-failure")
    return rec.exitCode !== 0 && (p.maximumRetryCount === 0 || rec.restartCount < p.maximumRetryCount);
  return true;
}
