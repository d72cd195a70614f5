/**
 * The subset of Go's text/template that docker's --format strings use: {{.Field}} and
 * {{.A.B}}, {{json .}}, {{index .Map "key"}}, {{join .List ", "}}, {{upper}}, {{lower}},
 * {{title}}, {{truncate . N}}, {{println}}, {{if}}/{{else}}/{{end}}, {{range}}, and {{- -}}
 * whitespace trimming.
 */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly code = "TEMPLATE";
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Expr[] }
  | { kind: "if"; cond: Expr[]; whenTrue: Node[]; else: Node[] }
  | { kind: "range"; over: Expr[]; body: Node[]; else: Node[] };

type Expr =
  | { kind: "field"; path: string[] }
  | { kind: "dot" }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "func"; name: string };

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  index: (m, ...keys) =>
    keys.reduce((acc: unknown, k) => (acc as Record<string, unknown> | undefined)?.[String(k)], m),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep)) : goString(list)),
  upper: (s) => goString(s).toUpperCase(),
  lower: (s) => goString(s).toLowerCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  split: (s, sep) => goString(s).split(String(sep)),
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(""),
  pad: (s, l, r) => `${" ".repeat(Number(l))}${goString(s)}${" ".repeat(Number(r))}`,
  println: (...args) => `${args.map(goString).join(" ")}\n`,
  len: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : Object.keys(v ?? {}).length),
};

/** JSON as Go's encoding/json writes it: compact, with <, > and & escaped. */
export function goJson(value: unknown): string {
  return (JSON.stringify(value) ?? "null")
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026");
}

/** How Go's fmt prints a value with %v. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return "<no value>";
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(" ")}]`;
  }
  return String(v);
}

export function parseTemplate(source: string): Node[] {
  const tokens = tokenize(source);
  let pos = 0;
  function parseList(stops: string[]): { nodes: Node[]; stop: string } {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.kind === "text") {
        nodes.push({ kind: "text", text: t.text });
        continue;
      }
      const words = splitWords(t.text);
      const head = words[0] ?? "";
      if (stops.includes(head)) return { nodes, stop: head };
      if (head === "if" || head === "range") {
        const expr = parseExprs(words.slice(1));
        const body = parseList(["else", "end"]);
        const alt = body.stop === "else" ? parseList(["end"]).nodes : [];
        nodes.push(
          head === "if"
            ? { kind: "if", cond: expr, whenTrue: body.nodes, else: alt }
            : { kind: "range", over: expr, body: body.nodes, else: alt },
        );
        continue;
      }
      if (head === "end" || head === "else") throw new TemplateError(`template: unexpected {{${head}}}`);
      nodes.push({ kind: "action", pipe: parseExprs(words) });
    }
    if (stops.length > 0) throw new TemplateError(`template: unexpected EOF`);
    return { nodes, stop: "" };
  }
  return parseList([]).nodes;
}

function tokenize(source: string): ({ kind: "text"; text: string } | { kind: "action"; text: string })[] {
  const out: ({ kind: "text"; text: string } | { kind: "action"; text: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    let text = open < 0 ? source.slice(i) : source.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      if (text) out.push({ kind: "text", text });
      break;
    }
    const close = source.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError("template: unclosed action");
    let inner = source.slice(open + 2, close);
    if (inner.startsWith("- ")) {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(2);
    }
    trimNext = inner.endsWith(" -");
    if (trimNext) inner = inner.slice(0, -2);
    if (text) out.push({ kind: "text", text });
    out.push({ kind: "action", text: inner.trim() });
    i = close + 2;
  }
  return out;
}

function splitWords(s: string): string[] {
  return s.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|[^\s]+/g) ?? [];
}

function parseExprs(words: string[]): Expr[] {
  return words.map((w): Expr => {
    if (w === ".") return { kind: "dot" };
    if (w.startsWith(".")) return { kind: "field", path: w.slice(1).split(".") };
    if (w.startsWith('"')) return { kind: "string", value: JSON.parse(w) as string };
    if (w.startsWith("`")) return { kind: "string", value: w.slice(1, -1) };
    if (/^-?\d+$/.test(w)) return { kind: "number", value: Number(w) };
    if (w in FUNCS) return { kind: "func", name: w };
    throw new TemplateError(`template: function "${w}" not defined`);
  });
}

function evalExpr(e: Expr, dot: unknown): unknown {
  switch (e.kind) {
    case "dot":
      return dot;
    case "string":
    case "number":
      return e.value;
    case "field": {
      let v: unknown = dot;
      for (const name of e.path) {
        if (v === null || typeof v !== "object" || !(name in (v as object))) {
          throw new TemplateError(`template: can't evaluate field ${name} in type ${typeName(v)}`);
        }
        v = (v as Record<string, unknown>)[name];
      }
      return v;
    }
    case "func":
      throw new TemplateError(`template: ${e.name} is a function, not a value`);
  }
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? "slice" : v === null ? "nil" : typeof v === "object" ? "struct" : typeof v;
}

function evalPipe(pipe: Expr[], dot: unknown): unknown {
  const [head, ...args] = pipe;
  if (!head) return "";
  if (head.kind === "func") return FUNCS[head.name]!(...args.map((a) => evalExpr(a, dot)));
  if (args.length > 0) throw new TemplateError("template: can't give argument to non-function");
  return evalExpr(head, dot);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}

function execute(nodes: Node[], dot: unknown): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "action") {
      const v = evalPipe(n.pipe, dot);
      out += typeof v === "string" ? v : goString(v);
    } else if (n.kind === "if") out += execute(truthy(evalPipe(n.cond, dot)) ? n.whenTrue : n.else, dot);
    else {
      const over = evalPipe(n.over, dot);
      const items = Array.isArray(over) ? over : over && typeof over === "object" ? Object.values(over) : [];
      out += items.length === 0 ? execute(n.else, dot) : items.map((item) => execute(n.body, item)).join("");
    }
  }
  return out;
}

/** Parses and runs a template against one value. */
export function renderTemplate(source: string, value: unknown): string {
  return execute(parseTemplate(source), value);
}

/** Docker expands the escapes \t and \n that users type literally in --format. */
export function expandEscapes(format: string): string {
  return format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}
