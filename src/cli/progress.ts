import type { BlobPhase, TransferEvent } from "../transfer/types.js";
import { humanSize } from "./format/units.js";

/** Docker's words for each phase of a layer, pulling and pushing. */
const WORDS: Record<"pull" | "push", Partial<Record<BlobPhase, string>>> = {
  pull: {
    exists: "Already exists",
    queued: "Pulling fs layer",
    waiting: "Waiting",
    transferring: "Downloading",
    verifying: "Verifying Checksum",
    transferred: "Download complete",
    unpacking: "Extracting",
    done: "Pull complete",
  },
  push: {
    queued: "Preparing",
    waiting: "Waiting",
    exists: "Layer already exists",
    transferring: "Pushing",
    mounted: "Mounted from",
    done: "Pushed",
  },
};

/** Phases shown with a bar on a terminal. */
const BARS: ReadonlySet<BlobPhase> = new Set(["transferring", "unpacking"]);

/** How often a terminal is redrawn for byte counts alone (a new status redraws at once). */
const REDRAW_MS = 100;

/**
 * Shows per-layer progress like the docker CLI: on a terminal one line per layer, redrawn in
 * place with a progress bar that moves as bytes go; otherwise one plain line each time a
 * layer's status changes. Only layers are shown, as Docker shows them.
 */
export class ProgressPrinter {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;
  private pending?: NodeJS.Timeout;

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    private readonly direction: "pull" | "push",
    private readonly tty = Boolean((out as NodeJS.WriteStream).isTTY),
  ) {}

  readonly listener = (e: TransferEvent): void => {
    if (e.role !== "layer") return;
    const word = WORDS[this.direction][e.phase];
    if (!word) return;
    const id = shortId(e.digest);
    if (!this.lines.has(id)) this.order.push(id);
    let text = `${id}: ${word}`;
    if (e.phase === "mounted") text = `${id}: Mounted from ${e.detail ?? ""}`;
    else if (this.tty && BARS.has(e.phase) && e.total && e.current !== undefined) {
      text = `${id}: ${word.padEnd(11)} ${bar(e.current, e.total)}  ${humanSize(e.current)}/${humanSize(e.total)}`;
    }
    this.lines.set(id, text);
    const changed = this.lastStatus.get(id) !== word;
    this.lastStatus.set(id, word);
    if (!this.tty) {
      if (changed) this.out.write(`${id}: ${e.phase === "mounted" ? text.slice(id.length + 2) : word}\n`);
      return;
    }
    if (changed || Date.now() - this.lastDraw >= REDRAW_MS) this.redraw();
    else this.pending ??= setTimeout(() => this.redraw(), REDRAW_MS);
  };

  /** Draws the last state once more (after the transfer, so the final byte counts show). */
  finish(): void {
    if (this.pending) this.redraw();
  }

  private redraw(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.lastDraw = Date.now();
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const id of this.order) s += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(s);
  }
}

/** Docker's short layer id: the first 12 hex digits of the blob digest. */
export function shortId(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, "").slice(0, 12);
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}
