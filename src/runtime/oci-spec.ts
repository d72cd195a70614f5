/** The part of the OCI runtime spec (config.json of a bundle, v1.0.2) that Berth writes. */
export interface RuntimeSpec {
  ociVersion: string;
  process: SpecProcess;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: SpecMount[];
  annotations?: Record<string, string>;
  linux: SpecLinux;
}

export interface SpecProcess {
  terminal: boolean;
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: {
    bounding: string[];
    effective: string[];
    permitted: string[];
    inheritable?: string[];
    ambient?: string[];
  };
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface SpecLinux {
  namespaces: { type: NamespaceType; path?: string }[];
  /** With a user namespace: container IDs onto host IDs. */
  uidMappings?: SpecIdMapping[];
  gidMappings?: SpecIdMapping[];
  /** Device nodes made in the container's /dev (its cgroup rules are resources.devices). */
  devices?: SpecDevice[];
  resources: SpecResources;
  cgroupsPath: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl?: Record<string, string>;
  seccomp?: SpecSeccomp;
}

export interface SpecIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface SpecDevice {
  path: string;
  type: "c" | "b" | "u" | "p";
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** The seccomp filter: a default action, and rules that name syscalls (with argument conditions). */
export interface SpecSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[];
  }[];
}

export type NamespaceType = "pid" | "network" | "ipc" | "uts" | "mount" | "cgroup" | "user";

export interface SpecResources {
  devices: { allow: boolean; access: string; type?: string; major?: number; minor?: number }[];
  memory?: { limit?: number; swap?: number };
  cpu?: { quota?: number; period?: number; shares?: number };
  pids?: { limit: number };
}
