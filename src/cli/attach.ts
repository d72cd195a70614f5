import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { openAttach } from "../runtime/attach.js";
import type { Containers } from "../runtime/containers.js";
import { finishForeground } from "../runtime/foreground.js";
import { reportDaemonError } from "./container-context.js";

export interface AttachFlags {
  stdin: boolean;
  tty: boolean;
  rm: boolean;
}

/**
 * Starts a container attached through conmon's attach socket: its output as it comes, our
 * stdin to its stdin (-i), our terminal in raw mode and its window size (-t); exits with its status.
 */
export async function attachAndStart(
  containers: Containers,
  id: string,
  flags: AttachFlags,
): Promise<number> {
  let session: Awaited<ReturnType<typeof openAttach>> | undefined;
  try {
    await containers.start(id, {
      attached: true,
      beforeRun: async (_rec, paths) => {
        session = await openAttach(paths.attachSocket);
        if (flags.tty) resize(join(paths.bundle, "ctl"));
      },
    });
  } catch (err) {
    // A container with --rm that failed to start is removed by the start.
    session?.close();
    const code = reportDaemonError(err, "berth: ");
    return code === 1 ? 125 : code;
  }
  return pump(containers, id, session!, flags);
}

/** `attach`: to a running container's output (and stdin when it was started with -i). */
export async function attachRunning(containers: Containers, id: string, flags: AttachFlags): Promise<number> {
  const session = await openAttach(containers.paths(id).attachSocket);
  if (flags.tty) resize(join(containers.paths(id).bundle, "ctl"));
  return pump(containers, id, session, flags);
}

async function pump(
  containers: Containers,
  id: string,
  session: Awaited<ReturnType<typeof openAttach>>,
  flags: AttachFlags,
): Promise<number> {
  session.onOutput((stream, data) => (stream === "stderr" ? process.stderr : process.stdout).write(data));
  const stdin = process.stdin;
  const raw = flags.tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onWinch = () => resize(join(containers.paths(id).bundle, "ctl"));
  if (flags.tty) process.on("SIGWINCH", onWinch);
  if (flags.stdin) {
    stdin.on("data", (d: Buffer) => session.write(d));
    stdin.on("end", () => session.end());
    stdin.resume();
  }
  try {
    return await finishForeground(containers, id, { remove: flags.rm, drain: () => session.drained() });
  } finally {
    if (raw) stdin.setRawMode(false);
    if (flags.tty) process.off("SIGWINCH", onWinch);
    stdin.pause();
    stdin.removeAllListeners("data");
    session.close();
  }
}

/** conmon's control FIFO: `1 HEIGHT WIDTH` resizes the container's terminal. */
function resize(ctl: string): void {
  const { rows, columns } = process.stdout;
  if (!rows || !columns) return;
  try {
    const fd = openSync(ctl, "w");
    writeSync(fd, `1 ${rows} ${columns}\n`);
    closeSync(fd);
  } catch {}
}
