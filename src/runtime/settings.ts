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
