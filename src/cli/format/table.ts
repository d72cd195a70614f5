/**
 * The docker CLI's --format handling for list commands (github.com/docker/cli
 * cli/command/formatter/formatter.go): "table" and "table TEMPLATE" print a header row and
 * the rows through a tab writer; "json" prints `{{json .}}` per row; anything else is a
 * template printed once per row, each followed by a newline.
 */
import { formatterContext } from "./govalues.js";
import { TabWriter } from "./tabwriter.js";
import { expandEscapes, Template, TemplateError } from "./template.js";

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
}

/**
 * Renders rows as docker does for a --format value and returns the text to print. Each row
 * is marked as a formatter context (see govalues.ts): a field it lacks is an error, and
 * `{{json .}}` encodes it with sorted keys and HTML escapes as docker's contexts do.
 *
 * Throws {@link TemplateError} ("template parsing error: …") when the template does not parse
 * or fails on any row; nothing is printed then, as with docker.
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

  let template: Template;
  try {
    template = Template.parse(text);
  } catch (e) {
    throw wrap(e);
  }
  let body = "";
  for (const row of rows) {
    try {
      body += `${template.execute(formatterContext(row))}\n`;
    } catch (e) {
      throw wrap(e);
    }
  }
  if (!isTable) return body;
  const writer = new TabWriter();
  writer.write(template.executeHeader(options.headers));
  writer.write("\n");
  writer.write(body);
  return writer.flush();
}

/** strings.Trim(s, " "): spaces only, not tabs or newlines. */
function trimSpaces(s: string): string {
  return s.replace(/^ +| +$/g, "");
}

function wrap(e: unknown): unknown {
  if (!(e instanceof TemplateError)) return e;
  return new TemplateError(`template parsing error: ${e.message}`, { cause: e });
}
