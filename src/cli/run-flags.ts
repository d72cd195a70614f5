import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import type { CreateRequest } from "../runtime/containers.js";
import { type MountRequest, parseMountFlag, parseVolumeFlag } from "../runtime/mounts.js";
import { parsePublish } from "../runtime/ports.js";
import type { RestartPolicy } from "../runtime/settings.js";
import { type Command, Command as CommandClass } from "./commander.js";

export interface RunFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  publish?: string[];
  volume?: string[];
  mount?: string[];
  network?: string;
  hostname?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  readOnly?: boolean;
  init?: boolean;
  restart?: string;
  label?: string[];
  platform?: string;
  pull?: string;
  stopSignal?: string;
  stopTimeout?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The flags `run` and `create` share, as docker names them. */
export function containerCommand(name: string, description: string): Command {
  return new CommandClass(name)
    .description(description)
    .argument("<image>", "IMAGE")
    .argument("[command...]", "COMMAND [ARG...]")
    .passThroughOptions()
    .option("-i, --interactive", "keep STDIN open even if not attached")
    .option("-t, --tty", "allocate a pseudo-TTY")
    .option("--rm", "automatically remove the container when it exits")
    .option("--name <name>", "assign a name to the container")
    .option("-e, --env <KEY=value>", "set environment variables", collect)
    .option("--env-file <file>", "read in a file of environment variables", collect)
    .option("-w, --workdir <dir>", "working directory inside the container")
    .option("-u, --user <user>", "username or UID (format: <name|uid>[:<group|gid>])")
    .option("--entrypoint <command>", "overwrite the default ENTRYPOINT of the image")
    .option("-p, --publish <spec>", "publish a container's port to the host", collect)
    .option("-v, --volume <spec>", "bind mount a volume", collect)
    .option("--mount <spec>", "attach a filesystem mount to the container", collect)
    .option("--network, --net <mode>", "connect a container to a network (default, none, host)")
    .option("-h, --hostname <name>", "container host name")
    .option("-m, --memory <bytes>", "memory limit")
    .option("--cpus <number>", "number of CPUs")
    .option("--pids-limit <number>", "tune container pids limit (-1 for unlimited)")
    .option("--read-only", "mount the container's root filesystem as read only")
    .option("--init", "run an init inside the container that forwards signals and reaps processes")
    .option("--restart <policy>", "restart policy to apply when a container exits", "no")
    .option("-l, --label <KEY=value>", "set meta data on a container", collect)
    .option("--platform <platform>", "set platform if server is multi-platform capable")
    .option("--pull <when>", 'pull image before running ("always", "missing", "never")', "missing")
    .option("--stop-signal <signal>", "signal to stop the container")
    .option("--stop-timeout <seconds>", "timeout (in seconds) to stop a container");
}

/** go-units RAMInBytes: `64m`, `1g`, `512k`, `1024` (bytes); binary multiples. */
export function parseMemory(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$/i.exec(s.trim());
  if (!m) throw new UsageError(`invalid argument "${s}" for "-m, --memory" flag: invalid size: '${s}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[
    m[2]!.toLowerCase()
  ]!;
  return Math.floor(Number(m[1]) * mult);
}

export function parseRestart(s: string): RestartPolicy {
  const [name, count, ...rest] = s.split(":");
  if (rest.length > 0) throw new UsageError(`invalid restart policy format: ${s}`);
  if (name === "no" || name === "always" || name === "unless-stopped") {
    if (count !== undefined)
      throw new UsageError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    return { name, maximumRetryCount: 0 };
  }
  if (name === "on-failure") {
    if (count !== undefined && !/^\d+$/.test(count))
      throw new UsageError(`invalid restart policy format: maximum retry count must be an integer`);
    return { name, maximumRetryCount: count === undefined ? 0 : Number(count) };
  }
  throw new UsageError(`invalid restart policy format: ${s}`);
}

/** `--env-file`: KEY=value lines; comments and blank lines skipped; a bare KEY takes the caller's value. */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `open ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
    );
  }
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    out.push(expandEnv(line));
  }
  return out;
}

/** `-e KEY` takes KEY from the caller's environment, as docker's client does. */
function expandEnv(entry: string): string {
  if (entry.includes("=")) return entry;
  const v = process.env[entry];
  return v === undefined ? entry : `${entry}=${v}`;
}

function labels(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf("=");
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  return out;
}

function integer(s: string, flag: string): number {
  if (!/^-?\d+$/.test(s))
    throw new UsageError(
      `invalid argument "${s}" for "${flag}" flag: strconv.ParseInt: parsing "${s}": invalid syntax`,
    );
  return Number(s);
}

/** Turns `run`/`create` flags into a create request (everything but the image), or a usage error (125). */
export function createRequestFrom(flags: RunFlags, cmd: string[]): Omit<CreateRequest, "imageId" | "image"> {
  const network = flags.network ?? "default";
  if (!["default", "bridge", "none", "host"].includes(network))
    throw new UsageError(`network ${network} not found (Berth has the networks default, none and host)`);
  const restart = parseRestart(flags.restart ?? "no");
  if (flags.rm && restart.name !== "no") throw new UsageError("Conflicting options: --restart and --rm");
  const mounts: (MountRequest & { createSource?: boolean })[] = [
    ...(flags.volume ?? []).map((v) => ({ ...parseVolumeFlag(v, process.cwd()), createSource: true })),
    ...(flags.mount ?? []).map((m) => parseMountFlag(m, process.cwd())),
  ];
  const dests = new Set<string>();
  for (const m of mounts) {
    if (dests.has(m.destination)) throw new UsageError(`Duplicate mount point: ${m.destination}`);
    dests.add(m.destination);
  }
  const cpus = flags.cpus === undefined ? undefined : Number(flags.cpus);
  if (cpus !== undefined && !(cpus > 0))
    throw new UsageError(
      `invalid argument "${flags.cpus}" for "--cpus" flag: failed to parse ${flags.cpus} as a rational number`,
    );
  if (flags.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(flags.hostname))
    throw new UsageError(`invalid hostname format: ${flags.hostname}`);
  if (flags.pull !== undefined && !["always", "missing", "never"].includes(flags.pull))
    throw new UsageError(
      `invalid pull option: '${flags.pull}': must be one of "always", "missing" or "never"`,
    );
  const env = [...(flags.envFile ?? []).flatMap(readEnvFile), ...(flags.env ?? []).map(expandEnv)];
  return {
    name: flags.name,
    process: {
      cmd,
      entrypoint: flags.entrypoint,
      env,
      workdir: flags.workdir,
      user: flags.user,
      tty: flags.tty ?? false,
    },
    openStdin: flags.interactive ?? false,
    stdinOnce: (flags.interactive ?? false) && !flags.detach,
    attach: flags.detach
      ? { stdin: false, stdout: false, stderr: false }
      : { stdin: flags.interactive ?? false, stdout: true, stderr: true },
    hostname: flags.hostname,
    network: network === "bridge" ? "default" : (network as "default" | "none" | "host"),
    publish: (flags.publish ?? []).map(parsePublish),
    mounts,
    limits: {
      memory: flags.memory === undefined ? undefined : parseMemory(flags.memory),
      cpus,
      pidsLimit: flags.pidsLimit === undefined ? undefined : integer(flags.pidsLimit, "--pids-limit"),
    },
    readOnly: flags.readOnly ?? false,
    init: flags.init ?? false,
    restartPolicy: restart,
    autoRemove: flags.rm ?? false,
    labels: labels(flags.label),
    platform: flags.platform,
    stopSignal: flags.stopSignal,
    stopTimeout: flags.stopTimeout === undefined ? undefined : integer(flags.stopTimeout, "--stop-timeout"),
  };
}
