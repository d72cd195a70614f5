import { TabWriter } from "./tabwriter.js";

/**
 * A table of plain fields exactly as a default format such as `table {{.ID}}\t{{.Names}}`
 * renders (header row, then one row per item, through docker's tab writer), without loading
 * the template engine: list commands use it when no --format is given.
 */
export function plainTable(
  columns: readonly string[],
  headers: Record<string, string>,
  rows: readonly object[],
): string {
  const writer = new TabWriter();
  writer.write(`${columns.map((c) => headers[c] ?? c.toUpperCase()).join("\t")}\n`);
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    writer.write(`${columns.map((c) => String(r[c] ?? "")).join("\t")}\n`);
  }
  return writer.flush();
}
