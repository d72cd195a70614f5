import { INIT_PATH } from "./defaults.js";
import { RuntimeUsageError } from "./errors.js";
import type { NamespaceType, RuntimeSpec, SpecMount } from "./oci-spec.js";
import type { ResolvedUser } from "./user.js";

/*
 * The OCI runtime spec as containerd's pkg/oci/spec_opts.go makes it: a skeleton, then small
 * options applied in order, each changing one concern of the spec being built. Options are pure:
 * whatever needs the disk or the host (the user from the container's /etc/passwd, a network
 * namespace, a device's numbers, a seccomp profile's JSON) is found before, by the lifecycle, and
 * given to the option as a value. Nothing changes a spec once newSpec has returned it.
 *
 * Order matters where two options touch the same field, and then the later one wins: the one list
 * of a container's options, in Docker's order, is sandbox-spec.ts.
 */

/** One concern of a spec being built; throws RuntimeUsageError for a value it cannot use. */
export type SpecOpt = (spec: RuntimeSpec) => void;

/** The spec of the options, over an empty skeleton: no namespaces, no mounts, no capabilities, every device denied. */
export function newSpec(...opts: SpecOpt[]): RuntimeSpec {
  const spec: RuntimeSpec = {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [],
      env: [],
      cwd: "/",
      capabilities: { bounding: [], effective: [], permitted: [] },
      noNewPrivileges: false,
      oomScoreAdj: 0,
    },
    root: { path: "", readonly: false },
    hostname: "",
    mounts: [],
    linux: {
      namespaces: [],
      resources: { devices: [{ allow: false, access: "rwm" }] },
      cgroupsPath: "",
      maskedPaths: [],
      readonlyPaths: [],
    },
  };
  return derivedSpec(spec, ...opts);
}

/**
 * A new spec: a copy of `base` with the options applied (an exec's process, from the container's
 * own spec). `base` is not changed.
 */
export function derivedSpec(base: RuntimeSpec, ...opts: SpecOpt[]): RuntimeSpec {
  const spec = structuredClone(base);
  for (const opt of opts) opt(spec);
  spec.mounts = sortMounts(spec.mounts);
  return spec;
}

/** Parents before children, so a bind at /data/x is not hidden by one at /data (Docker sorts the same way). */
function sortMounts(mounts: SpecMount[]): SpecMount[] {
  const depth = (p: string) => p.split("/").filter(Boolean).length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
}

// ---- the root filesystem and the process ---------------------------------------------------

export function withRootfs(path: string, readOnly = false): SpecOpt {
  return (s) => {
    s.root = { path, readonly: readOnly };
  };
}

/** The command line (path and arguments), already composed from the entrypoint and cmd (spec.ts). */
export function withProcessArgs(args: string[]): SpecOpt {
  return (s) => {
    s.process.args = [...args];
  };
}

/** The whole environment, already merged (spec.ts `containerEnv`, `mergeEnv`). */
export function withEnv(env: string[]): SpecOpt {
  return (s) => {
    s.process.env = [...env];
  };
}

export function withCwd(cwd: string): SpecOpt {
  return (s) => {
    if (!cwd.startsWith("/"))
      throw new RuntimeUsageError(
        `the working directory '${cwd}' is invalid, it needs to be an absolute path`,
      );
    s.process.cwd = cwd;
  };
}

export function withTerminal(tty: boolean): SpecOpt {
  return (s) => {
    s.process.terminal = tty;
  };
}

/** The user, resolved against the container's own /etc/passwd and /etc/group (process-user.ts). */
export function withUser(user: Pick<ResolvedUser, "uid" | "gid" | "additionalGids">): SpecOpt {
  return (s) => {
    s.process.user = {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids.length > 0 ? { additionalGids: [...user.additionalGids] } : {}),
    };
  };
}

/** The capabilities the process keeps: its bounding, effective and permitted sets (Docker leaves inheritable empty). */
export function withCapabilities(caps: readonly string[]): SpecOpt {
  return (s) => {
    s.process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
  };
}

/**
 * Runs a static init (tini) as pid 1 in front of the command, bind-mounted read-only at Docker's
 * /sbin/docker-init. Comes after withProcessArgs.
 */
export function withInit(binary: string): SpecOpt {
  return (s) => {
    s.mounts.push({ destination: INIT_PATH, type: "bind", source: binary, options: ["bind", "ro"] });
    s.process.args = [INIT_PATH, "--", ...s.process.args];
  };
}

// ---- mounts --------------------------------------------------------------------------------

/** Mounts as the spec has them (the default filesystems, later tmpfs mounts); appended. */
export function withMounts(mounts: readonly SpecMount[]): SpecOpt {
  return (s) => {
    for (const m of mounts) s.mounts.push({ ...m, options: [...m.options] });
  };
}

/** A bind mount as the runtime needs it: a host path (a volume's directory for named volumes). */
export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/** `-v`/`--mount` binds and volumes: recursive, private, read-only when asked. */
export function withBindMounts(binds: readonly BindMount[]): SpecOpt {
  return (s) => {
    for (const m of binds) {
      if (!m.destination.startsWith("/"))
        throw new RuntimeUsageError(`invalid mount config: mount path must be absolute: ${m.destination}`);
      s.mounts.push({
        destination: m.destination,
        type: "bind",
        source: m.source,
        options: ["rbind", "rprivate", ...(m.readOnly ? ["ro"] : [])],
      });
    }
  };
}

/** Host files bind-mounted over the container's /etc/hosts, /etc/hostname and /etc/resolv.conf. */
export interface EtcFiles {
  hosts?: string;
  hostname?: string;
  resolvConf?: string;
}

export function withEtcFiles(etc: EtcFiles): SpecOpt {
  return (s) => {
    for (const [destination, source] of [
      ["/etc/resolv.conf", etc.resolvConf],
      ["/etc/hostname", etc.hostname],
      ["/etc/hosts", etc.hosts],
    ] as const) {
      if (source) s.mounts.push({ destination, type: "bind", source, options: ["rbind", "rprivate"] });
    }
  };
}

/** Kernel paths hidden from the container (masked) and made read-only. */
export function withMaskedPaths(masked: readonly string[], readOnly: readonly string[]): SpecOpt {
  return (s) => {
    s.linux.maskedPaths = [...masked];
    s.linux.readonlyPaths = [...readOnly];
  };
}

// ---- namespaces, network, hostname -----------------------------------------------------------

/** The namespaces the container gets of its own (new ones, no paths); withNetwork decides the network's. */
export function withNamespaces(types: readonly NamespaceType[]): SpecOpt {
  return (s) => {
    s.linux.namespaces = types.map((type) => ({ type }));
  };
}

/**
 * The container's network: "host" shares the host's namespace (and, since it cannot mount a sysfs
 * of its own there, gets the host's /sys read-only); "none" a new namespace with loopback only;
 * "default" the namespace at `nsPath`, made beforehand (slirp4netns serves it), else a new one.
 * Comes after withNamespaces and the default mounts.
 */
export function withNetwork(mode: "none" | "host" | "default", nsPath?: string): SpecOpt {
  return (s) => {
    const others = s.linux.namespaces.filter((n) => n.type !== "network");
    if (mode === "host") {
      s.linux.namespaces = others;
      s.mounts = s.mounts.map((m) =>
        m.destination === "/sys"
          ? {
              destination: "/sys",
              type: "bind",
              source: "/sys",
              options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
            }
          : m,
      );
      return;
    }
    // Where Docker puts it: after pid.
    const network = { type: "network" as const, ...(mode === "default" && nsPath ? { path: nsPath } : {}) };
    const pid = others.findIndex((n) => n.type === "pid");
    others.splice(pid + 1, 0, network);
    s.linux.namespaces = others;
  };
}

export function withHostname(hostname: string): SpecOpt {
  return (s) => {
    s.hostname = hostname;
  };
}

// ---- cgroups -----------------------------------------------------------------------------------

export interface Limits {
  /** Bytes. */
  memory?: number;
  /** CPUs, fractional (`--cpus 1.5`). */
  cpus?: number;
  pidsLimit?: number;
}

/** CPU quota per 100 ms period, as `docker run --cpus` sets it. */
const CPU_PERIOD = 100_000;

/** `--memory`, `--cpus`, `--pids-limit` as cgroup limits (device rules are withDevices' concern). */
export function withResources(limits: Limits): SpecOpt {
  return (s) => {
    const r = s.linux.resources;
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
  };
}

/** Relative: runc creates it under the caller's cgroup. */
export function withCgroupsPath(path: string): SpecOpt {
  return (s) => {
    s.linux.cgroupsPath = path;
  };
}

export function withAnnotations(annotations: Record<string, string>): SpecOpt {
  return (s) => {
    s.annotations = { ...(s.annotations ?? {}), ...annotations };
  };
}
