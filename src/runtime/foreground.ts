import { statSync } from "node:fs";
import type { Writable } from "node:stream";
import type { Containers } from "./containers.js";
import { readLog } from "./logs.js";

/*
 * A container followed to its end by whoever started it (`run` without -d, `start -a`): its
 * output passed on as it comes, then its exit recorded and what it held freed — or the container
 * removed (--rm) — by the starter itself, with no second berth process (conmon's exit command
 * defers to the starter while it lives: handoff.ts). The CLI and the Engine API both call this.
 */

export interface ForegroundOptions {
  /** Where the container's stdout and stderr go. */
  output: { stdout: Writable; stderr: Writable };
  /** Remove the container at its end (--rm). */
  remove: boolean;
  /** Called once the container runs (the CLI forwards its signals to it from then on). */
  started?: () => void;
}

/**
 * Starts a created (or stopped) container attached, writes its output from conmon's log as it
 * comes, and resolves to its exit status once it has ended and is recorded, freed, or removed.
 * A failed start is thrown (a container with --rm is removed first).
 */
export async function runInForeground(c: Containers, id: string, opts: ForegroundOptions): Promise<number> {
  let offset = 0;
  await c.start(id, {
    attached: true,
    beforeRun: (_rec, paths) => {
      // A restarted container's log already holds its earlier runs' lines.
      try {
        offset = statSync(paths.log).size;
      } catch {}
    },
  });
  opts.started?.();
  let stopped = false;
  let wake = () => {};
  const printing = readLog(
    c.paths(id).log,
    (e) => (e.stream === "stdout" ? opts.output.stdout : opts.output.stderr).write(e.text),
    {
      offset,
      follow: true,
      stopped: () => stopped,
      onWake: (w) => {
        wake = w;
      },
    },
  );
  return finishForeground(c, id, {
    remove: opts.remove,
    drain: async () => {
      stopped = true;
      wake();
      await printing;
    },
  });
}

/**
 * The end of a foreground run: waits for the container's exit, lets the caller take the last of
 * its output (`drain`), then records its exit and frees it, or removes it (`remove`), and tells
 * conmon's exit command that nothing is left to do. Resolves to the exit status.
 */
export async function finishForeground(
  c: Containers,
  id: string,
  opts: { remove: boolean; drain?: () => Promise<void> },
): Promise<number> {
  const seen = await c.waitExit(id);
  await opts.drain?.();
  if (opts.remove) await c.remove(id, { force: true, volumes: true }).catch(() => {});
  else await c.cleanup(id, { restart: false, autoRemove: false }).catch(() => {});
  await c.endAttachment(id);
  return seen?.exitCode ?? 0;
}
