import type { ContainerConfig } from "../oci/manifest.js";
import { DEFAULT_PATH } from "./defaults.js";
import { RuntimeUsageError } from "./errors.js";

/*
 * Docker's rules for a container's process: the command from the entrypoint and cmd, the
 * environment from the defaults, the image and the flags. Pure; the runtime spec itself is
 * composed from options (spec-opts.ts, sandbox-spec.ts).
 */

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

/**
 * Replaces each `KEY=` already present, else appends (Docker's ReplaceOrAppendEnvValues); a bare
 * `KEY` removes it. Linear: each key's positions are kept in a map, and removals leave a hole
 * that is dropped at the end (an `--env-file` of 20,000 variables took 80 s when every entry
 * searched the list).
 */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out: (string | undefined)[] = [...base];
  // Every position of each key, first first: a key given twice in the base is replaced (or
  // removed) at its first position, then at the next, as a search of the list would find them.
  const at = new Map<string, number[]>();
  const keyOf = (e: string) => {
    const eq = e.indexOf("=");
    return eq < 0 ? e : e.slice(0, eq);
  };
  out.forEach((e, i) => {
    const key = keyOf(e!);
    const list = at.get(key);
    if (list) list.push(i);
    else at.set(key, [i]);
  });
  for (const entry of overrides) {
    const key = keyOf(entry);
    const list = at.get(key);
    if (!entry.includes("=")) {
      // `-e KEY` without a value removes KEY, as Docker does when the client has no such variable.
      const i = list?.shift();
      if (i !== undefined) out[i] = undefined;
      if (list?.length === 0) at.delete(key);
      continue;
    }
    if (list) out[list[0]!] = entry;
    else at.set(key, [out.push(entry) - 1]);
  }
  return out.filter((e): e is string => e !== undefined);
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
