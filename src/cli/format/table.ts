/**
 * The docker CLI's --format handling for list commands (github.com/docker/cli
 * cli/command/formatter/formatter.go): "table" and "table TEMPLATE" print a header row and
 * the rows through a tab writer; "json" prints `{{json .}}` per row; anything else is a
 * template printed once per row, each followed by a newline.
 */
import { TemplateError } from "../../gotemplate/errors.js";
import type { Template } from "../../gotemplate/template.js";
import { funcOf, STRING } from "../../gotemplate/types.js";
import { goFunc, goStruct } from "../../gotemplate/values.js";
import { FormatError } from "./errors.js";
import { formatterContext, HEADER_FUNCS, parseDockerTemplate } from "./functions.js";
import { TabWriter } from "./tabwriter.js";

export { TabWriter, TabWriterFlags, type TabWriterOptions, tabwrite } from "./tabwriter.js";

export interface FormatOptions {
  /** The command's default, used for an empty format or "table", e.g. "table {{.ID}}\t{{.Size}}". */
  defaultTable: string;
  /** Column headers by field, e.g. { Repository: "REPOSITORY", ID: "IMAGE ID" }. */
  headers: Record<string, string>;
  /** -q: the default format becomes `quietFormat`; a format given explicitly still wins. */
  quiet?: boolean;
  /** What -q prints, docker's DefaultQuietFormat unless a command says otherwise. */
  quietFormat?: string;
  /**
   * The Go type docker's rows have, as its messages name it ("*formatter.imageContext"); the
   * rows are structs of that type, so a field they lack is an error.
   */
  typeName?: string;
}

/** A row with docker's `.Label "name"` method: the value of one label, "" when it is not set. */
export function withLabelMethods<T extends object>(
  row: T,
  labels: Record<string, string>,
): T & { Label: unknown } {
  return { ...row, Label: goFunc(funcOf([STRING], [STRING]), (name: string) => labels[name] ?? "") };
}

/** A row as a docker formatter context: a struct of the command's type that `json` marshals as a map. */
export function contextRow<T extends object>(row: T, typeName?: string): T {
  return formatterContext(goStruct(row, typeName));
}

/**
 * Renders rows as docker does for a --format value and returns the text to print.
 *
 * Throws {@link FormatError} ("template parsing error: …", docker's wording for both a template
 * that does not parse and one that fails on a row) before anything is printed, as docker does.
 */
export function renderFormatted(
  format: string | undefined,
  rows: readonly object[],
  options: FormatOptions,
): string {
  let source = format ?? "";
  if (source === "" || source === "table") {
    source = options.quiet ? (options.quietFormat ?? "{{.ID}}") : options.defaultTable;
  }
  const isTable = source.startsWith("table");
  let text = isTable ? source.slice("table".length) : source === "json" ? "{{json .}}" : source;
  text = expandEscapes(trimSpaces(text));

  const template = wrap(() => parseDockerTemplate(text));
  let body = "";
  for (const row of rows) {
    body += `${wrap(() => template.execute(contextRow(row, options.typeName)))}\n`;
  }
  if (!isTable) return body;
  const writer = new TabWriter();
  writer.write(renderHeader(template, options.headers));
  writer.write("\n");
  writer.write(body);
  return writer.flush();
}

/**
 * A table's header row as docker renders it: the same template over the map of column headers,
 * with the string functions made identities; an error ends the row where it happened (docker
 * ignores it).
 */
function renderHeader(template: Template, headers: Record<string, string>): string {
  let out = "";
  try {
    template.funcs(HEADER_FUNCS).executeTo((s) => {
      out += s;
    }, headers);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
  }
  return out;
}

/** strings.Trim(s, " "): spaces only, not tabs or newlines. */
function trimSpaces(s: string): string {
  return s.replace(/^ +| +$/g, "");
}

/** docker turns a literal `\t` or `\n` typed in --format into a tab or a newline. */
export function expandEscapes(format: string): string {
  return format.replace(/\\[tn]/g, (m) => (m === "\\t" ? "\t" : "\n"));
}

function wrap<T>(f: () => T, prefix = "template parsing error: "): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TemplateError) throw new FormatError(`${prefix}${e.message}`, 1, { cause: e });
    throw e;
  }
}

/**
 * `docker ps` checks a --format before it lists anything, on an empty row: a template that does
 * not parse is "failed to parse template: …", one that fails "failed to execute template: …".
 */
export function validatePsFormat(format: string, emptyRow: object, typeName: string): void {
  const template = wrap(() => parseDockerTemplate(format), "failed to parse template: ");
  wrap(() => template.execute(contextRow(emptyRow, typeName)), "failed to execute template: ");
}
