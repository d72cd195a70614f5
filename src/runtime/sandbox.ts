import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { isAlive, processStart } from "../liveness.js";
import { HelperBatch } from "./exec-file.js";
import { Handoff, handoffCommand, makeHandoffFifo } from "./handoff.js";
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
import { readExitFile } from "./observe.js";
import type { ContainerIO, OciRuntime, ProcessRef } from "./oci-runtime.js";
import { isMounted, mountOverlay, unmount } from "./overlay.js";
import { SOCKET_DIR } from "./paths.js";
import type { PortBinding } from "./ports.js";
import { resolveUserInRoot } from "./process-user.js";
import { sandboxSpec } from "./sandbox-spec.js";
import type { SandboxSettings } from "./settings.js";

/*
 * One sandbox lifecycle, after podman's container_internal.go: prepare the root filesystem and
 * files → network → create → start → wait → release. A container's `run`, `start` and restart
 * (start.ts) and a build's RUN (ephemeral.ts) all go through it; they differ in where the files
 * live, whether a record is kept, and where the output goes.
 */

/** Where a sandbox's files live: ROOT/containers/ID (ContainerPaths), or a build step's scratch directory. */
export interface SandboxPaths {
  /** The sandbox's own layer: every change its processes make. */
  readonly upper: string;
  readonly work: string;
  /** The overlay's mount point: the root filesystem. */
  readonly merged: string;
  /** config.json, and conmon's pid files, ctl and winsz FIFOs. */
  readonly bundle: string;
  readonly hosts: string;
  readonly hostname: string;
  readonly resolvConf: string;
  readonly exitDir: string;
  readonly exitFile: string;
  readonly slirpSocket: string;
  /** The FIFO an attached starter holds open (handoff.ts). */
  readonly handoff: string;
}

export interface SandboxRequest {
  /** The runtime's name for it (a container's ID); its cgroup is `berth-ID`, its network namespace /run/netns/berth-ID. */
  id: string;
  paths: SandboxPaths;
  /** Read-only directories under the sandbox's own layer, topmost first: its init layer, then the image's layers. */
  lowers: string[];
  settings: SandboxSettings;
  /** "log": the output into this k8s-file log, the container detached from us; else the output to these streams. */
  output: { log: string } | { stdout: Writable; stderr: Writable };
  /** The static init for settings.init (default: Debian's tini-static). */
  initBinary?: string;
  /** What conmon runs when the process has ended (Berth's `container cleanup ID`). */
  exitCommand?: string[];
  /**
   * The starter follows the sandbox to its end and releases it itself: conmon's exit command
   * runs only if the starter is gone by then (handoff.ts). Needs an exit command.
   */
  attached?: boolean;
}

/** A sandbox whose process was created (and, once startSandbox resolves, runs). */
export interface SandboxProcess {
  init: ProcessRef;
  monitor: ProcessRef | undefined;
  slirp: ProcessRef | undefined;
  /** The published ports, with the host ports that were free when none was given. */
  ports: PortBinding[];
  /** The attached starter's end of the handoff FIFO. */
  handoff: Handoff | undefined;
  /** Output to streams: resolves once the monitor has ended and all output was written. */
  ended?: Promise<void>;
}

/**
 * Prepares, networks, creates and starts a sandbox. `created` runs once the process exists and
 * before it runs (record it; attach to its output). On failure, whatever came up is taken down
 * (slirp4netns, conmon, the runtime's container, the mount) before the error is rethrown.
 */
export async function startSandbox(
  runtime: OciRuntime,
  req: SandboxRequest,
  created?: (p: SandboxProcess) => Promise<void> | void,
): Promise<SandboxProcess> {
  const { id, paths, settings: s } = req;
  const attached = Boolean(req.attached && req.exitCommand);
  let network: Promise<void> | undefined;
  let slirp: ProcessRef | undefined;
  let monitor: ProcessRef | undefined;
  let handoff: Handoff | undefined;
  let ports = s.ports;
  try {
    // ---- prepare the root filesystem and files; the network namespace
    mkdirSync(SOCKET_DIR, { recursive: true });
    // ip netns, mount and mkfifo run side by side in one shell (see HelperBatch).
    const batch = new HelperBatch();
    const netns = s.network === "default" ? createNetns(id, batch.exec) : undefined;
    // ---- network: slirp4netns and the port forwards come up while the rootfs is mounted and
    // the runtime creates the container: only the process's start waits for them.
    network = netns?.then(async (ns) => {
      const child = startSlirp(ns, paths.slirpSocket);
      if (child.pid) slirp = { pid: child.pid, start: processStart(child.pid) ?? null };
      await child.ready;
      const bound: PortBinding[] = [];
      for (const p of s.ports) {
        const b = { ...p, hostPort: p.hostPort || (await freeHostPort(p.hostIp)) };
        await addPortForward(paths.slirpSocket, b);
        bound.push(b);
      }
      ports = bound;
    });
    network?.catch(() => {});
    const rootfs = async () => {
      if (!isMounted(paths.merged))
        await mountOverlay(
          { lowers: req.lowers, upper: paths.upper, work: paths.work, target: paths.merged },
          batch.exec,
        );
    };
    const helpers = [netns, rootfs(), attached ? makeHandoffFifo(paths.handoff, batch.exec) : undefined];
    batch.flush();
    // While the helpers run: the /etc files (synchronous writes: a few tiny files cost less than
    // their threadpool round trips), and no exit file of a previous run.
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
    const spec = sandboxSpec(s, {
      rootfs: paths.merged,
      user,
      etc: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
      netnsPath: netns ? netnsPath(id) : undefined,
      initBinary: req.initBinary,
      cgroupsPath: `berth-${id}`,
    });
    writeFileSync(join(paths.bundle, "config.json"), JSON.stringify(spec));
    // A container of this name the runtime still knows (a crash between create and delete).
    await runtime.delete(id, { force: true });

    // ---- create, beside the network
    if (attached) handoff = new Handoff(paths.handoff);
    const io: ContainerIO =
      "log" in req.output
        ? {
            mode: "log",
            logPath: req.output.log,
            socketDir: SOCKET_DIR,
            stdin: s.openStdin,
            leaveStdinOpen: !s.stdinOnce,
            tty: s.tty,
          }
        : { mode: "pipes", socketDir: SOCKET_DIR, ...req.output };
    const [createdBy, networkBy] = await Promise.allSettled([
      runtime.create({
        id,
        bundle: paths.bundle,
        exitDir: paths.exitDir,
        io,
        exitCommand:
          handoff && req.exitCommand ? handoffCommand(paths.handoff, req.exitCommand) : req.exitCommand,
      }),
      network,
    ]);
    if (createdBy.status === "fulfilled") monitor = createdBy.value.monitor;
    if (createdBy.status === "rejected") throw createdBy.reason;
    if (networkBy.status === "rejected") throw networkBy.reason;
    const made = createdBy.value;
    if (handoff && made.monitor) {
      handoff.monitor.pid = made.monitor.pid;
      handoff.monitor.start = made.monitor.start;
    }
    const proc: SandboxProcess = {
      init: made.init,
      monitor: made.monitor,
      slirp,
      ports,
      handoff,
      ...(made.ended ? { ended: made.ended } : {}),
    };
    await created?.(proc);

    // ---- start
    await runtime.start(id, made.init);
    return proc;
  } catch (err) {
    handoff?.close();
    // Whatever came up is taken down: slirp4netns once it is known, conmon before the
    // container (so that it runs no exit command for a container that never ran).
    await network?.catch(() => {});
    if (monitor && isAlive(monitor.pid, monitor.start)) {
      try {
        process.kill(monitor.pid, "SIGKILL");
      } catch {}
    }
    await releaseSandbox(runtime, id, paths, slirp).catch(() => {});
    throw err;
  }
}

/**
 * The exit status of a sandbox's process once it has ended: conmon's exit file, after the
 * monitor's end (output to streams) or once the file appears; 255 when the monitor died
 * without writing one.
 */
export async function waitSandbox(proc: SandboxProcess, paths: SandboxPaths): Promise<number> {
  if (proc.ended) {
    await proc.ended;
    return readExitFile(paths.exitFile)?.code ?? 255;
  }
  let wake: (() => void) | undefined;
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(paths.exitDir, () => wake?.());
  } catch {}
  try {
    for (;;) {
      const exit = readExitFile(paths.exitFile);
      if (exit) return exit.code;
      if (proc.monitor && !isAlive(proc.monitor.pid, proc.monitor.start))
        return readExitFile(paths.exitFile)?.code ?? 255;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100).unref?.();
      });
    }
  } finally {
    watcher?.close();
  }
}

/**
 * Frees what a sandbox holds: slirp4netns, its network namespace, the runtime's container, the
 * root filesystem's mount, the attach socket's link. Each step is a no-op when already done, so
 * a release may be repeated (by whichever process gets to it).
 */
export async function releaseSandbox(
  runtime: OciRuntime,
  id: string,
  paths: SandboxPaths,
  slirp?: ProcessRef | null,
): Promise<void> {
  if (slirp?.pid && isAlive(slirp.pid, slirp.start)) {
    try {
      process.kill(slirp.pid, "SIGKILL");
    } catch {}
  }
  // umount, ip netns delete and the runtime's delete run side by side in one shell.
  const batch = new HelperBatch();
  const pending = Promise.allSettled([
    existsSync(netnsPath(id)) ? deleteNetns(id, batch.exec) : undefined,
    runtime.delete(id, { force: true, exec: batch.exec }),
    unmount(paths.merged, batch.exec),
  ]);
  batch.flush();
  rmSync(paths.slirpSocket, { force: true });
  // conmon removes its attach-socket link when it exits cleanly; not when it was killed.
  rmSync(join(SOCKET_DIR, id), { force: true });
  const steps = await pending;
  for (const r of steps) if (r.status === "rejected") throw r.reason;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
