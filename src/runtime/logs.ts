import { watch } from "node:fs";
import { open } from "node:fs/promises";

export interface LogEntry {
  /** RFC 3339 with nanoseconds, as conmon writes it. */
  time: string;
  stream: "stdout" | "stderr";
  /** The text, with its newline unless the line was partial (conmon's `P`). */
  text: string;
}

/** One line of conmon's k8s-file log: `TIME STREAM F|P TEXT`. */
export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  const c = line.indexOf(" ", b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? "" : line.slice(c + 1);
  return { time: line.slice(0, a), stream, text: tag === "P" ? text : `${text}\n` };
}

/** Milliseconds of a log timestamp (nanoseconds are cut: filters compare at millisecond precision). */
export function logTimeMs(time: string): number {
  return Date.parse(time.replace(/(\.\d{3})\d*/, "$1"));
}

/**
 * Reads a container's log from `offset`, calling `onEntry` per line; with `follow`, keeps
 * reading as conmon appends until `stopped()` says the container is done and the file holds no
 * more. Reads whole lines only (a line is written by one write of conmon's).
 */
export async function readLog(
  path: string,
  onEntry: (e: LogEntry) => void,
  opts: {
    offset?: number;
    follow?: boolean;
    stopped?: () => boolean;
    /** Receives a function that ends the wait for more (call it once `stopped` turns true). */
    onWake?: (wake: () => void) => void;
  } = {},
): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !opts.follow) return 0;
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    // conmon creates the log when the container is created: wait for it.
    while (!fh && !opts.stopped?.()) {
      await new Promise((r) => setTimeout(r, 20));
      fh = await open(path, "r").catch(() => undefined);
    }
    if (!fh) return 0;
  }
  let position = opts.offset ?? 0;
  let rest = "";
  const buf = Buffer.allocUnsafe(256 * 1024);
  let wake: (() => void) | undefined;
  const watcher = opts.follow ? watch(path, () => wake?.()) : undefined;
  opts.onWake?.(() => wake?.());
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const text = rest + buf.subarray(0, bytesRead).toString("utf8");
        const lines = text.split("\n");
        rest = lines.pop()!;
        for (const l of lines) {
          const e = parseLogLine(l);
          if (e) onEntry(e);
        }
        continue;
      }
      if (!opts.follow) break;
      if (opts.stopped?.()) {
        // One more read: conmon writes the last lines before the exit file.
        const again = await fh.read(buf, 0, buf.length, position);
        if (again.bytesRead === 0) break;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100).unref?.();
      });
    }
  } finally {
    watcher?.close();
    await fh.close();
  }
  return position;
}
