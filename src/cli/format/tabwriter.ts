/**
 * Go's text/tabwriter (the elastic tabstops algorithm) as docker's fork of it behaves: the
 * fork measures cells in terminal columns (go-runewidth) rather than in runes.
 *
 * Input is cells terminated by '\t' (or '\v'), lines ended by '\n' (or '\f', which also ends
 * every column). The cells of one column in consecutive lines form a block, padded to the
 * widest cell plus `padding`, at least `minWidth`. The text after a line's last tab is not in
 * any column and is never padded.
 */
import { stringWidth } from "./width.js";

/** The Writer's flags, with Go's values (FilterHTML and StripEscape have no use here). */
export const TabWriterFlags = {
  AlignRight: 4,
  DiscardEmptyColumns: 8,
  TabIndent: 16,
  Debug: 32,
} as const;

export interface TabWriterOptions {
  minWidth?: number;
  tabWidth?: number;
  padding?: number;
  padChar?: string;
  flags?: number;
}

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

export class TabWriter {
  private readonly minWidth: number;
  private readonly tabWidth: number;
  private readonly padding: number;
  private readonly padChar: string;
  private readonly flags: number;
  private lines: Cell[][] = [[]];
  private cell = "";
  private widths: number[] = [];
  private out = "";

  /** The defaults are docker's: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
  constructor(options: TabWriterOptions = {}) {
    this.minWidth = options.minWidth ?? 10;
    this.tabWidth = options.tabWidth ?? 1;
    this.padding = options.padding ?? 3;
    this.padChar = options.padChar ?? " ";
    let flags = options.flags ?? 0;
    if (this.padChar === "\t") flags &= ~TabWriterFlags.AlignRight;
    this.flags = flags;
    if (this.minWidth < 0 || this.tabWidth < 0 || this.padding < 0) {
      throw new RangeError("negative minwidth, tabwidth, or padding");
    }
  }

  /** Formats a whole text with the given options (docker's by default). */
  static format(text: string, options?: TabWriterOptions): string {
    return new TabWriter(options).write(text).flush();
  }

  write(text: string): this {
    const terminators = /[\t\v\n\f]/g;
    let start = 0;
    for (let m = terminators.exec(text); m; m = terminators.exec(text)) {
      this.cell += text.slice(start, m.index);
      start = m.index + 1;
      const ch = m[0];
      const cells = this.terminateCell(ch === "\t");
      if (ch === "\n" || ch === "\f") {
        this.lines.push([]);
        // A line of a single cell cannot affect the columns of later lines: format what came before.
        if (ch === "\f" || cells === 1) {
          this.flushInternal();
          if (ch === "\f" && this.flags & TabWriterFlags.Debug) this.out += "---\n";
        }
      }
    }
    this.cell += text.slice(start);
    return this;
  }

  /** Formats everything written so far and returns the output not yet returned. */
  flush(): string {
    this.flushInternal();
    const out = this.out;
    this.out = "";
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1]!;
    line.push({ text: this.cell, width: stringWidth(this.cell), htab });
    this.cell = "";
    return line.length;
  }

  private flushInternal(): void {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let row = line0; row < line1; row++) {
      if (column >= this.lines[row]!.length - 1) continue;
      // This line has a cell in this column: a block of such lines starts here.
      this.writeLines(line0, row);
      line0 = row;
      let width = this.minWidth;
      let discardable = true;
      for (; row < line1; row++) {
        const line = this.lines[row]!;
        if (column >= line.length - 1) break;
        const c = line[column]!;
        width = Math.max(width, c.width + this.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && this.flags & TabWriterFlags.DiscardEmptyColumns) width = 0;
      this.widths.push(width);
      this.format(line0, row);
      this.widths.pop();
      line0 = row;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i]!;
      let useTabs = (this.flags & TabWriterFlags.TabIndent) !== 0;
      line.forEach((c, j) => {
        if (j > 0 && this.flags & TabWriterFlags.Debug) this.out += "|";
        const padded = j < this.widths.length;
        if (c.text.length === 0) {
          if (padded) this.writePadding(c.width, this.widths[j]!, useTabs);
          return;
        }
        useTabs = false;
        if (this.flags & TabWriterFlags.AlignRight) {
          if (padded) this.writePadding(c.width, this.widths[j]!, false);
          this.out += c.text;
        } else {
          this.out += c.text;
          if (padded) this.writePadding(c.width, this.widths[j]!, false);
        }
      });
      // The last line is the one still being written: it has no newline yet.
      this.out += i + 1 === this.lines.length ? this.cell : "\n";
    }
  }

  private writePadding(textWidth: number, cellWidth: number, useTabs: boolean): void {
    if (this.padChar === "\t" || useTabs) {
      if (this.tabWidth === 0) return;
      const cell = Math.ceil(cellWidth / this.tabWidth) * this.tabWidth;
      this.out += "\t".repeat(Math.ceil((cell - textWidth) / this.tabWidth));
      return;
    }
    this.out += this.padChar.repeat(Math.max(0, cellWidth - textWidth));
  }
}

/** Aligns tab-separated text as docker's tables are aligned (minwidth 10, padding 3). */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  return TabWriter.format(text, { minWidth, padding });
}
