import type { ContainerConfig } from "../oci/manifest.js";
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  defaultMounts,
  INIT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
} from "./defaults.js";
import { RuntimeUsageError } from "./errors.js";
import type { NamespaceType, RuntimeSpec, SpecMount, SpecResources } from "./oci-spec.js";
import type { ResolvedUser } from "./user.js";

export type NetworkMode = "none" | "host" | "private";

/** A bind mount as the runtime needs it: a host path (a volume's directory for named volumes). */
export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface Limits {
  /** Bytes. */
  memory?: number;
  /** CPUs, fractional (`--cpus 1.5`). */
  cpus?: number;
  pidsLimit?: number;
}

/** What the flags of `run`/`create` say about the process, before the image is looked at. */
export interface ProcessFlags {
  /** Arguments after the image name. */
  cmd: string[];
  /** `--entrypoint`: "" clears the image's entrypoint. */
  entrypoint?: string;
  /** `-e`/`--env-file` entries: `KEY=value`, or `KEY` alone to pass... nothing (no host env here). */
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
}

export class NoCommandError extends RuntimeUsageError {
  constructor() {
    super("No command specified");
  }
}

/**
 * The command a container runs, as Docker composes it: the entrypoint (the flag's, or the
 * image's) followed by the arguments (the flag's, or the image's Cmd unless --entrypoint was
 * given, which resets it).
 */
export function containerCommand(image: ContainerConfig, flags: ProcessFlags): string[] {
  let entrypoint: string[];
  if (flags.entrypoint !== undefined) entrypoint = flags.entrypoint === "" ? [] : [flags.entrypoint];
  else entrypoint = image.Entrypoint ?? [];
  const cmd = flags.cmd.length > 0 ? flags.cmd : flags.entrypoint !== undefined ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new NoCommandError();
  return args;
}

/** Replaces each `KEY=` already present, else appends (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const entry of overrides) {
    const key = entry.split("=", 1)[0]!;
    const i = out.findIndex((e) => e.split("=", 1)[0] === key);
    if (!entry.includes("=")) {
      // `-e KEY` without a value removes KEY, as Docker does when the client has no such variable.
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out;
}

/**
 * The process environment as Docker builds it: PATH, HOSTNAME, TERM for a tty, then the image's
 * and the flags' entries replacing or adding. (runc adds HOME from the container's passwd.)
 */
export function containerEnv(
  image: ContainerConfig,
  flags: Pick<ProcessFlags, "env" | "tty">,
  hostname: string,
): string[] {
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(flags.tty ? ["TERM=xterm"] : [])];
  return mergeEnv(mergeEnv(base, image.Env ?? []), flags.env);
}

/**
 * Docker's Config.Env of a container (the daemon's merge of the create request with the image):
 * the flags' entries as given, then the image's entries whose name the flags do not set.
 */
export function configEnv(image: ContainerConfig, flags: Pick<ProcessFlags, "env">): string[] {
  const named = new Set(flags.env.map((e) => e.split("=", 1)[0]));
  return [...flags.env, ...(image.Env ?? []).filter((e) => !named.has(e.split("=", 1)[0]))];
}

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  tty: boolean;
  readOnly: boolean;
  /** Host path of a static init (tini) to run as pid 1, bind-mounted at /sbin/docker-init. */
  init?: string;
  network: NetworkMode;
  /** Host files bind-mounted over the container's /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etc?: { hosts?: string; hostname?: string; resolvConf?: string };
  mounts: BindMount[];
  limits: Limits;
  /** Relative: runc creates it under the caller's cgroup. */
  cgroupsPath: string;
  annotations?: Record<string, string>;
}

/** CPU quota per 100 ms period, as `docker run --cpus` sets it. */
const CPU_PERIOD = 100_000;

/** The runtime spec (config.json) of a container: pure, so every rule here is table-tested. */
export function buildSpec(input: SpecInput): RuntimeSpec {
  if (!input.cwd.startsWith("/"))
    throw new RuntimeUsageError(
      `the working directory '${input.cwd}' is invalid, it needs to be an absolute path`,
    );
  const namespaces: NamespaceType[] = ["pid", "ipc", "uts", "mount", "cgroup"];
  if (input.network !== "host") namespaces.splice(1, 0, "network");
  const mounts: SpecMount[] = defaultMounts();
  if (input.network === "host") {
    // A container in the host's network namespace cannot mount a sysfs of its own; it gets the host's, read-only.
    const i = mounts.findIndex((m) => m.destination === "/sys");
    mounts[i] = {
      destination: "/sys",
      type: "bind",
      source: "/sys",
      options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
    };
  }
  const etc = input.etc ?? {};
  for (const [dest, source] of [
    ["/etc/resolv.conf", etc.resolvConf],
    ["/etc/hostname", etc.hostname],
    ["/etc/hosts", etc.hosts],
  ] as const) {
    if (source) mounts.push({ destination: dest, type: "bind", source, options: ["rbind", "rprivate"] });
  }
  for (const m of input.mounts) {
    if (!m.destination.startsWith("/"))
      throw new RuntimeUsageError(`invalid mount config: mount path must be absolute: ${m.destination}`);
    mounts.push({
      destination: m.destination,
      type: "bind",
      source: m.source,
      options: ["rbind", "rprivate", ...(m.readOnly ? ["ro"] : [])],
    });
  }
  let args = input.args;
  if (input.init) {
    mounts.push({ destination: INIT_PATH, type: "bind", source: input.init, options: ["bind", "ro"] });
    args = [INIT_PATH, "--", ...args];
  }
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: input.tty,
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}),
      },
      args,
      env: input.env,
      cwd: input.cwd,
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      noNewPrivileges: false,
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: input.readOnly },
    hostname: input.hostname,
    mounts: sortMounts(mounts),
    ...(input.annotations ? { annotations: input.annotations } : {}),
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      resources: resources(input.limits),
      cgroupsPath: input.cgroupsPath,
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

/** Parents before children, so a bind at /data/x is not hidden by one at /data (Docker sorts the same way). */
function sortMounts(mounts: SpecMount[]): SpecMount[] {
  const depth = (p: string) => p.split("/").filter(Boolean).length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
}

function resources(limits: Limits): SpecResources {
  const r: SpecResources = { devices: [{ allow: false, access: "rwm" }] };
  if (limits.memory !== undefined) {
    if (limits.memory < 6 * 1024 * 1024) throw new RuntimeUsageError("Minimum memory limit allowed is 6MB");
    r.memory = { limit: limits.memory };
  }
  if (limits.cpus !== undefined) {
    if (!(limits.cpus > 0))
      throw new RuntimeUsageError(`invalid argument "${limits.cpus}" for "--cpus" flag`);
    r.cpu = { quota: Math.round(limits.cpus * CPU_PERIOD), period: CPU_PERIOD };
  }
  if (limits.pidsLimit !== undefined && limits.pidsLimit > 0) r.pids = { limit: limits.pidsLimit };
  return r;
}
