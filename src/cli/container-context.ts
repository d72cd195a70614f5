import { realpathSync } from "node:fs";
import { Containers } from "../runtime/containers.js";
import type { CliContext } from "./context.js";

/** The containers of the context's store, with conmon's exit command pointing back at this berth. */
export function containersOf(ctx: CliContext): Containers {
  const bin = realpathSync(process.argv[1]!);
  return new Containers(ctx.store, {
    runtime: ctx.config.runtime,
    usernsRemap: ctx.config.usernsRemap,
    cleanupCommand: (id) => [process.execPath, bin, "--root", ctx.root, "container", "cleanup", id],
  });
}

/**
 * Prints a failure as the docker CLI prints an error from its daemon, and sets the exit status:
 * the error's own (125 for usage, 126/127 for a command that cannot start), else 1.
 */
export function reportDaemonError(err: unknown, prefix = ""): number {
  const e = err as { message?: string; exitCode?: number; code?: string };
  if (!e || typeof e.code !== "string") throw err;
  process.stderr.write(`${prefix}Error response from daemon: ${e.message}\n`);
  return e.exitCode ?? 1;
}

/** Runs an action per container argument, reporting each failure and going on, as docker's stop/rm/kill do. */
export async function eachContainer(names: string[], fn: (name: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (err) {
      reportDaemonError(err);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}
