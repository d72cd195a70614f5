/**
 * Go's text/tabwriter as the docker CLI configures it (minwidth 10, tabwidth 1, padding 3, pad
 * with spaces, no flags): cells end at a tab; a column is as wide as its widest cell plus the
 * padding, and at least minwidth; the last cell of a line is not padded. Columns are aligned
 * over each block of consecutive lines that have that column.
 */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split("\n");
  const trailing = lines[lines.length - 1] === "" ? lines.pop() : undefined;
  const cells = lines.map((line) => line.split("\t"));
  const out = format(cells, 0, cells.length, 0, minWidth, padding);
  return out.join("\n") + (trailing !== undefined ? "\n" : "");
}

function width(s: string): number {
  return [...s].length;
}

/** Formats lines [start, end) from column `col` on, returning each line's text from that column. */
function format(
  cells: string[][],
  start: number,
  end: number,
  col: number,
  minWidth: number,
  padding: number,
): string[] {
  const out: string[] = [];
  let i = start;
  while (i < end) {
    // Lines without a cell ending in column `col` (their last cell is at or before it) stand alone.
    if (cells[i]!.length - 1 <= col) {
      out.push(cells[i]!.slice(col).join(""));
      i++;
      continue;
    }
    let j = i;
    let w = 0;
    while (j < end && cells[j]!.length - 1 > col) {
      w = Math.max(w, width(cells[j]![col]!) + padding);
      j++;
    }
    w = Math.max(w, minWidth);
    const rest = format(cells, i, j, col + 1, minWidth, padding);
    for (let k = i; k < j; k++) {
      const cell = cells[k]![col]!;
      out.push(cell + " ".repeat(w - width(cell)) + rest[k - i]);
    }
    i = j;
  }
  return out;
}
