import { renderFormatted } from "./format/table.js";
import { expandEscapes, renderTemplate } from "./format/template.js";

/**
 * Prints rows as the docker CLI does for a --format value: empty or "table" for the default
 * table, "table TEMPLATE" for a table of one's own (header row, then tab-aligned rows), "json"
 * for one JSON object per line, anything else as a template per row.
 */
export function printRows(
  rows: object[],
  format: string | undefined,
  defaultTable: string,
  headers: Record<string, string>,
  out: NodeJS.WritableStream = process.stdout,
): void {
  out.write(renderFormatted(format, rows, { defaultTable, headers: headerContext(rows[0], headers) }));
}

/** Each field of a row stands for its column header in a table's first line. */
function headerContext(sample: object | undefined, headers: Record<string, string>): Record<string, string> {
  const ctx: Record<string, string> = {};
  for (const key of Object.keys(sample ?? {})) ctx[key] = key.toUpperCase();
  return { ...ctx, ...headers };
}

/** `inspect` output: a JSON array indented as docker's (four spaces), or a template per object. */
export function printInspect(
  values: unknown[],
  format: string | undefined,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (format?.trim()) {
    const f = expandEscapes(format);
    out.write(values.map((v) => `${renderTemplate(f, v)}\n`).join(""));
    return;
  }
  const json = JSON.stringify(values, null, 4)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026");
  out.write(`${json}\n`);
}
