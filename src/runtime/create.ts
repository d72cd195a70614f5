import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { imageConfig } from "../images/describe.js";
import type { ContainerConfig } from "../oci/manifest.js";
import type { Containers } from "./containers.js";
import { DEFAULT_INIT_BINARY } from "./defaults.js";
import { RuntimeError } from "./errors.js";
import { makeInitLayer } from "./init-layer.js";
import type { MountRequest } from "./mounts.js";
import { generateName, validateName } from "./names.js";
import { volumesDir } from "./paths.js";
import type { PortBinding } from "./ports.js";
import type { ContainerRecord } from "./records.js";
import type { Attach, ContainerSettings, MountSetting, RestartPolicy } from "./settings.js";
import { parseSignal } from "./signals.js";
import { configEnv, containerCommand, containerEnv, type ProcessFlags } from "./spec.js";
import type { Limits } from "./spec-opts.js";

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

/**
 * `create`: the container's settings decided once (Docker's rules over the image config and the
 * request), its record, and its directories (its layer, the init layer with the mount points).
 */
export async function createContainer(c: Containers, req: CreateRequest): Promise<ContainerRecord> {
  const config = await imageConfig(c.store, req.imageId);
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
  const initBinary = c.opts.initBinary ?? DEFAULT_INIT_BINARY;
  if (settings.init && !existsSync(initBinary))
    throw new RuntimeError(`--init needs ${initBinary} (Debian package tini)`);
  const paths = c.paths(id);
  settings.mounts = await prepareMounts(c, req.mounts ?? []);
  let name = req.name !== undefined ? validateName(req.name) : undefined;
  if (!name) {
    for (let i = 0; i < 10 && !name; i++) {
      const candidate = generateName(i);
      if (!c.db.byName(candidate)) name = candidate;
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
  c.db.write(() => {
    if (!c.store.db.image(req.imageId)) throw new RuntimeError(`No such image: ${req.image}`);
    c.db.insert(rec);
  });
  try {
    // Synchronous calls: a dozen tiny operations cost less than their threadpool round trips.
    for (const dir of [paths.upper, paths.work, paths.merged, paths.bundle, paths.exitDir])
      mkdirSync(dir, { recursive: true });
    makeInitLayer(paths.init, { init: settings.init });
  } catch (err) {
    await rm(paths.dir, { recursive: true, force: true });
    c.db.write(() => c.db.delete(id));
    throw err;
  }
  return rec;
}

/** Bind sources checked (or made, for `-v`), volumes created: the mounts as the container keeps them. */
async function prepareMounts(
  c: Containers,
  reqs: (MountRequest & { createSource?: boolean })[],
): Promise<MountSetting[]> {
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
      const dir = join(volumesDir(c.store.root), name, "_data");
      await mkdir(dir, { recursive: true });
      c.db.write(() => c.db.addVolume(name));
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

/** How a mount was asked for, kept for inspect. */
function given(m: MountRequest): Pick<MountSetting, "flag" | "spec"> {
  return { ...(m.flag ? { flag: m.flag } : {}), ...(m.spec ? { spec: m.spec } : {}) };
}
