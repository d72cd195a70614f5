import { renderInspect } from "./format/inspect.js";
import { renderFormatted } from "./format/table.js";

/**
 * Prints rows as the docker CLI does for a --format value: empty or "table" for the default
 * table, "table TEMPLATE" for a table of one's own (header row, then tab-aligned rows), "json"
 * for one JSON object per line, anything else as a template per row. `typeName` is the Go type
 * docker's rows have for this command, as its error messages name it.
 */
export function printRows(
  rows: object[],
  format: string | undefined,
  defaultTable: string,
  headers: Record<string, string>,
  out: NodeJS.WritableStream = process.stdout,
  typeName?: string,
): void {
  out.write(
    renderFormatted(format, rows, { defaultTable, headers: headerContext(rows[0], headers), typeName }),
  );
}

/** Each field of a row stands for its column header in a table's first line. */
function headerContext(sample: object | undefined, headers: Record<string, string>): Record<string, string> {
  const ctx: Record<string, string> = {};
  for (const [key, v] of Object.entries(sample ?? {}))
    if (typeof v !== "function") ctx[key] = key.toUpperCase();
  return { ...ctx, ...headers };
}

/**
 * `inspect` output: JSON as docker's (an indented array, or compact with "json"), or a template
 * per object. A template that does not parse throws (exit 64); one that fails on an object is
 * reported on stderr in docker's words after the rest is printed, and the command exits 1.
 */
export function printInspect(
  values: unknown[],
  format: string | undefined,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): void {
  const result = renderInspect(values, format);
  out.write(result.out);
  if (result.errors.length > 0) {
    err.write(`${result.errors.join("\n")}\n`);
    process.exitCode = 1;
  }
}
