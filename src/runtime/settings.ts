import type { PortBinding } from "./ports.js";
import type { Limits } from "./spec-opts.js";

export type RestartPolicyName = "no" | "on-failure" | "always" | "unless-stopped";

export interface RestartPolicy {
  name: RestartPolicyName;
  maximumRetryCount: number;
}

export interface MountSetting {
  type: "bind" | "volume";
  /** Host path (bind) or the volume's directory. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** A volume's name. */
  name?: string;
  /** The flag it came from: `-v` (HostConfig.Binds, Config.Volumes) or `--mount` (HostConfig.Mounts). */
  flag?: "volume" | "mount";
  /** The `-v` text, as HostConfig.Binds shows it. */
  spec?: string;
}

/**
 * Everything `create` decided about a container, kept as JSON in its record: the process (from
 * the image config and the flags), the host settings, and what inspect reports. Records outlive
 * versions of Berth: a field added later is optional here (a record made before has none).
 */
export interface ContainerSettings {
  hostname: string;
  /** The user as given (`-u` or the image's USER), resolved against the container's passwd at start. */
  user: string;
  env: string[];
  /** The command line: path and arguments (entrypoint then cmd). */
  args: string[];
  /** The image's Entrypoint or --entrypoint, and the Cmd in effect (for inspect). */
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  labels: Record<string, string>;
  stopSignal: string;
  /** Seconds `stop` waits before KILL (--stop-timeout; default 10). */
  stopTimeout: number;
  exposedPorts: string[];
  network: "none" | "host" | "default";
  ports: PortBinding[];
  mounts: MountSetting[];
  limits: Limits;
  readOnly: boolean;
  init: boolean;
  restartPolicy: RestartPolicy;
  autoRemove: boolean;
  platform: string;
  /** What Docker's inspect reports as it was given, where the fields above hold its effect (absent in older records). */
  given?: GivenConfig;
}

/** Config fields of Docker's inspect that keep what was asked for. */
export interface GivenConfig {
  /** Config.Env: the flags' entries, then the image's that they do not name (the daemon's merge). */
  env: string[];
  /** Config.StopSignal: set by the image's STOPSIGNAL or --stop-signal only. */
  stopSignal?: string;
  /** Config.StopTimeout: set by --stop-timeout only. */
  stopTimeout?: number;
  /** Config.AttachStdin/Stdout/Stderr: the streams `run` or `create` attached (none with -d). */
  attach: Attach;
}

export interface Attach {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/**
 * What the sandbox lifecycle needs of a container's settings to run it (a build's RUN makes one
 * of these too): the process, and the host settings its spec and its network are made from.
 */
export type SandboxSettings = Pick<
  ContainerSettings,
  | "hostname"
  | "user"
  | "env"
  | "args"
  | "workingDir"
  | "tty"
  | "openStdin"
  | "stdinOnce"
  | "network"
  | "ports"
  | "mounts"
  | "limits"
  | "readOnly"
  | "init"
>;
