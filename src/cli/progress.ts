import type { LayerProgress } from "../images/progress.js";
import { humanSize } from "./format/units.js";

/**
 * Shows per-layer progress like the docker CLI: on a terminal one line per layer, redrawn in
 * place with a progress bar; otherwise one plain line each time a layer's status changes.
 */
export class ProgressPrinter {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly lastStatus = new Map<string, string>();
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    private readonly tty = Boolean((out as NodeJS.WriteStream).isTTY),
  ) {}

  readonly listener = (e: LayerProgress): void => {
    if (!this.lines.has(e.id)) this.order.push(e.id);
    const text = this.describe(e);
    this.lines.set(e.id, text);
    if (this.tty) {
      this.redraw();
    } else if (this.lastStatus.get(e.id) !== e.status) {
      this.lastStatus.set(e.id, e.status);
      this.out.write(`${text}\n`);
    }
  };

  private describe(e: LayerProgress): string {
    if (e.status === "Mounted from") return `${e.id}: Mounted from ${e.detail ?? ""}`;
    if (this.tty && (e.status === "Downloading" || e.status === "Pushing" || e.status === "Extracting")) {
      if (e.total && e.current !== undefined) {
        return `${e.id}: ${e.status.padEnd(11)} ${bar(e.current, e.total)}  ${humanSize(e.current)}/${humanSize(e.total)}`;
      }
    }
    return `${e.id}: ${e.status}`;
  }

  private redraw(): void {
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const id of this.order) s += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.out.write(s);
  }
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}
