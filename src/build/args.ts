import type { Platform } from "../oci/platform.js";
import { BuildError } from "./errors.js";
import { type EnvLookup, ExpansionError, processWord } from "./expand.js";
import type { ArgInstruction, Location } from "./instructions.js";

/**
 * Docker's build arguments. `--build-arg` values apply only to ARGs the Dockerfile declares;
 * ARGs before the first FROM are global: usable in FROM lines, and inside a stage once it
 * redeclares them (`ARG NAME`); the proxy variables are passed to RUN without a declaration
 * (and kept out of the history and the cache key); the platform variables are predeclared in
 * the global scope.
 */

export const PROXY_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** TARGETPLATFORM, TARGETOS, …, BUILDVARIANT for a build on (and for) `platform`. */
export function platformArgs(platform: Platform): Map<string, string> {
  const p = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}`;
  const out = new Map<string, string>();
  for (const prefix of ["BUILD", "TARGET"]) {
    out.set(`${prefix}PLATFORM`, p);
    out.set(`${prefix}OS`, platform.os);
    out.set(`${prefix}ARCH`, platform.architecture);
    out.set(`${prefix}VARIANT`, platform.variant ?? "");
  }
  return out;
}

/** `--build-arg K=V` and `--build-arg K` (the value taken from the environment, skipped if unset). */
export function parseBuildArgs(flags: string[], environment: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq === 0) throw new BuildError(`invalid build-arg ${JSON.stringify(flag)}: the name is empty`);
    if (eq > 0) out.set(flag.slice(0, eq), flag.slice(eq + 1));
    else if (environment[flag] !== undefined) out.set(flag, environment[flag]!);
  }
  return out;
}

export function expandAt(word: string, env: EnvLookup, escapeChar: string, loc: Location): string {
  try {
    return processWord(word, env, { escape: escapeChar });
  } catch (err) {
    if (err instanceof ExpansionError) throw new BuildError(err.message, loc);
    throw err;
  }
}

/**
 * The global scope: the predefined platform variables, then each ARG before the first FROM
 * (a --build-arg wins over its default; a default may use earlier ARGs).
 */
export function globalScope(
  args: ArgInstruction[],
  buildArgs: Map<string, string>,
  predefined: Map<string, string>,
  escapeChar: string,
): Map<string, string> {
  const scope = new Map(predefined);
  for (const ins of args) {
    for (const a of ins.args) {
      const given = buildArgs.get(a.key);
      if (given !== undefined) scope.set(a.key, given);
      else if (a.value !== undefined)
        scope.set(
          a.key,
          expandAt(a.value, (n) => scope.get(n), escapeChar, ins.loc),
        );
      else if (!predefined.has(a.key)) scope.delete(a.key);
    }
  }
  return scope;
}
