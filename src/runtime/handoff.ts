import { closeSync, constants, lstatSync, openSync, writeSync } from "node:fs";
import { RuntimeError } from "./errors.js";
import { type Exec, execHelper } from "./exec-file.js";

/**
 * conmon's exit command for a container whose starter stays attached (a foreground `run`,
 * `start -a`): that berth process records the exit and frees the container itself, so Berth's
 * cleanup (a second Node process, most of the cost of a short `run --rm`) runs only when the
 * starter is gone by then — killed, say — as Docker's daemon would still clean up.
 *
 * The starter holds the FIFO open (read-write, so opening never blocks; Node opens it close-on-exec, so no child of ours holds it) from before the
 * container starts. The script opens it for reading (first read-write, so that open cannot
 * block either, then drops that end) and reads one line: `done` from a starter that handled
 * everything; end-of-file when the starter closed it or died. Anything but `done` runs the
 * cleanup command. conmon waits for this script; the starter says `done` before it waits for
 * conmon to exit.
 */
const SCRIPT =
  'f=$1; shift; if [ -p "$f" ]; then exec 3<>"$f" 4<"$f" 3>&-; read -r said <&4; [ "$said" = done ] && exit 0; fi; exec "$@"';

export function handoffCommand(fifo: string, cleanup: string[]): string[] {
  return ["/bin/sh", "-c", SCRIPT, "berth-handoff", fifo, ...cleanup];
}

/** Makes the FIFO once per container (Node has no mkfifo). */
export async function makeHandoffFifo(path: string, exec: Exec = execHelper): Promise<void> {
  try {
    if (lstatSync(path).isFIFO()) return;
  } catch {}
  const r = await exec("mkfifo", ["-m", "600", path]);
  if (r.code !== 0 && !/File exists/.test(r.stderr))
    throw new RuntimeError(`creating ${path}: ${r.stderr.trim()}`);
}

/** The starter's end of the FIFO: open while it is attached; `done` tells the exit command it has nothing to do. */
export class Handoff {
  private fd: number | undefined;

  constructor(
    path: string,
    /** conmon, which lives until the exit command has read the FIFO. */
    readonly monitor: { pid: number | null; start: number | null } = { pid: null, start: null },
  ) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  }

  /** Tells the exit command the starter handled the exit (the fd stays open, so the line is not lost before it is read). */
  done(): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, "done\n");
    } catch {}
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {}
    this.fd = undefined;
  }
}
