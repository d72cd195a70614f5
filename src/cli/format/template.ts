/**
 * Go's text/template, as far as docker's --format strings reach: text and actions, fields and
 * chains (`.A.B`, `$x.A`, `(pipeline).A`), variables (`$`, `$x := …`, `$x = …`), pipelines
 * with `|`, `if`/`else if`/`else`/`end`, `with`, `range` (slices, maps, integers; `break` and
 * `continue`), `{{- -}}` trimming and `{{/* comments *\/}}`; Go's builtin functions (and, or,
 * not, len, index, slice, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery,
 * call) and docker's (json, split, join, title, lower, upper, pad, truncate).
 *
 * How JavaScript values stand for Go's types is described in govalues.ts. One addition: the
 * value a template starts from is looked up like a struct even when it is a plain object (a
 * field it lacks is an error), because docker always starts from a struct.
 */
import {
  compareGoStrings,
  GoJsonError,
  goJson,
  goKind,
  goSprint,
  goSprintf,
  goSprintln,
  goString,
  goTypeName,
  isFormatterContext,
  lookup,
  mapEntries,
} from "./govalues.js";

export { goJson, goString, goStruct } from "./govalues.js";

/** A template that does not parse, or fails while executing; the message reads as Go's. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  readonly code = "TEMPLATE";
}

// ---------------------------------------------------------------------------------------------
// Lexing

type Token =
  | { t: "text"; v: string; pos: number }
  | { t: "left"; pos: number }
  | { t: "right"; pos: number }
  | { t: "space"; pos: number }
  | { t: "field"; v: string; pos: number }
  | { t: "dot"; pos: number }
  | { t: "var"; v: string; pos: number }
  | { t: "ident"; v: string; pos: number }
  | { t: "string"; v: string; raw: string; pos: number }
  | { t: "number"; v: number; raw: string; pos: number }
  | { t: "pipe" | "lparen" | "rparen" | "comma" | "declare" | "assign"; pos: number }
  | { t: "eof"; pos: number };

const SPACE = /[ \t\r\n]/;
const ALNUM = /[\p{L}\p{Nd}_]/u;

function isSpace(c: string | undefined): boolean {
  return c !== undefined && SPACE.test(c);
}

function decodeGoString(body: string): string {
  return body.replace(
    /\\(?:([abfnrtv\\'"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))/g,
    (_m, simple: string, x: string, u: string, U: string, oct: string) => {
      if (simple) {
        const map: Record<string, string> = {
          a: "\x07",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
          v: "\v",
        };
        return map[simple] ?? simple;
      }
      if (x) return String.fromCharCode(Number.parseInt(x, 16));
      if (oct) return String.fromCharCode(Number.parseInt(oct, 8));
      return String.fromCodePoint(Number.parseInt(u ?? U, 16));
    },
  );
}

class Lexer {
  readonly tokens: Token[] = [];
  private pos = 0;
  private trimNext = false;

  constructor(
    private readonly src: string,
    private readonly fail: (pos: number, msg: string) => never,
  ) {}

  run(): Token[] {
    const src = this.src;
    while (this.pos <= src.length) {
      const open = src.indexOf("{{", this.pos);
      let text = src.slice(this.pos, open < 0 ? src.length : open);
      const leftTrim = open >= 0 && src[open + 2] === "-" && isSpace(src[open + 3]);
      if (this.trimNext) text = text.replace(/^[ \t\r\n]+/, "");
      if (leftTrim) text = text.replace(/[ \t\r\n]+$/, "");
      if (text) this.tokens.push({ t: "text", v: text, pos: this.pos });
      if (open < 0) break;
      this.pos = open + 2 + (leftTrim ? 1 : 0);
      if (this.comment(open, leftTrim)) continue;
      this.tokens.push({ t: "left", pos: open });
      this.action();
    }
    this.tokens.push({ t: "eof", pos: src.length });
    return this.tokens;
  }

  /** A comment must fill its action: `{{/* … *\/}}`, with optional trim markers. */
  private comment(open: number, leftTrim: boolean): boolean {
    const src = this.src;
    const start = this.pos + (leftTrim ? 1 : 0);
    if (!src.startsWith("/*", start)) return false;
    const close = src.indexOf("*/", start + 2);
    if (close < 0) this.fail(open, "unclosed comment");
    const after = close + 2;
    if (src.startsWith("}}", after)) {
      this.trimNext = false;
      this.pos = after + 2;
    } else if (isSpace(src[after]) && src.startsWith("-}}", after + 1)) {
      this.trimNext = true;
      this.pos = after + 4;
    } else this.fail(open, "comment ends before closing delimiter");
    return true;
  }

  private action(): void {
    const src = this.src;
    let parens = 0;
    for (;;) {
      const i = this.pos;
      if (i >= src.length) this.fail(i, "unclosed action");
      const c = src[i]!;
      if (isSpace(c)) {
        let k = i;
        while (isSpace(src[k])) k++;
        if (src.startsWith("-}}", k)) {
          this.end(k + 3, true, parens, i);
          return;
        }
        this.tokens.push({ t: "space", pos: i });
        this.pos = k;
        continue;
      }
      if (src.startsWith("}}", i)) {
        this.end(i + 2, false, parens, i);
        return;
      }
      this.pos = i + 1;
      switch (c) {
        case "|":
          this.tokens.push({ t: "pipe", pos: i });
          continue;
        case "(":
          parens++;
          this.tokens.push({ t: "lparen", pos: i });
          continue;
        case ")":
          parens--;
          if (parens < 0) this.fail(i, `unexpected right paren`);
          this.tokens.push({ t: "rparen", pos: i });
          continue;
        case ",":
          this.tokens.push({ t: "comma", pos: i });
          continue;
        case "=":
          this.tokens.push({ t: "assign", pos: i });
          continue;
        case ":":
          if (src[i + 1] !== "=") this.fail(i, "expected :=");
          this.pos = i + 2;
          this.tokens.push({ t: "declare", pos: i });
          continue;
        case '"': {
          let k = i + 1;
          while (k < src.length && src[k] !== '"') {
            if (src[k] === "\\") k++;
            if (src[k] === "\n" || k >= src.length) this.fail(i, "unterminated quoted string");
            k++;
          }
          if (k >= src.length) this.fail(i, "unterminated quoted string");
          const raw = src.slice(i, k + 1);
          this.tokens.push({ t: "string", v: decodeGoString(raw.slice(1, -1)), raw, pos: i });
          this.pos = k + 1;
          continue;
        }
        case "`": {
          const k = src.indexOf("`", i + 1);
          if (k < 0) this.fail(i, "unterminated raw quoted string");
          const raw = src.slice(i, k + 1);
          this.tokens.push({ t: "string", v: raw.slice(1, -1), raw, pos: i });
          this.pos = k + 1;
          continue;
        }
        case "'": {
          const m =
            /^'(\\(?:[abfnrtv\\'"]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})|[^\\'\n])'/u.exec(
              src.slice(i),
            );
          if (!m) this.fail(i, "unterminated character constant");
          const ch = decodeGoString(m[1]!);
          this.tokens.push({ t: "number", v: ch.codePointAt(0)!, raw: m[0], pos: i });
          this.pos = i + m[0].length;
          continue;
        }
        case "$": {
          let k = i + 1;
          while (k < src.length && ALNUM.test(src[k]!)) k++;
          this.tokens.push({ t: "var", v: src.slice(i, k), pos: i });
          this.pos = k;
          continue;
        }
      }
      if (c === "." && !/[0-9]/.test(src[i + 1] ?? "")) {
        let k = i + 1;
        while (k < src.length && ALNUM.test(src[k]!)) k++;
        if (k === i + 1) this.tokens.push({ t: "dot", pos: i });
        else this.tokens.push({ t: "field", v: src.slice(i + 1, k), pos: i });
        this.pos = k;
        continue;
      }
      if (/[0-9.+-]/.test(c)) {
        const m =
          /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(
            src.slice(i),
          );
        const raw = m?.[0] ?? "";
        const next = src[i + raw.length];
        if (!/[0-9]/.test(raw) || (next !== undefined && ALNUM.test(next))) {
          this.fail(i, `bad number syntax: "${src.slice(i, i + raw.length + 1)}"`);
        }
        this.tokens.push({ t: "number", v: parseGoNumber(raw), raw, pos: i });
        this.pos = i + raw.length;
        continue;
      }
      if (ALNUM.test(c)) {
        let k = i;
        while (k < src.length && ALNUM.test(src[k]!)) k++;
        this.tokens.push({ t: "ident", v: src.slice(i, k), pos: i });
        this.pos = k;
        continue;
      }
      const cp = c.codePointAt(0)!;
      this.fail(
        i,
        `unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`,
      );
    }
  }

  private end(after: number, trim: boolean, parens: number, pos: number): void {
    if (parens > 0) this.fail(pos, "unclosed left paren");
    this.tokens.push({ t: "right", pos });
    this.pos = after;
    this.trimNext = trim;
  }
}

function parseGoNumber(raw: string): number {
  const clean = raw.replace(/_/g, "");
  const sign = clean.startsWith("-") ? -1 : 1;
  const body = clean.replace(/^[+-]/, "");
  if (/^0[xX]/.test(body)) return sign * Number.parseInt(body.slice(2), 16);
  if (/^0[bB]/.test(body)) return sign * Number.parseInt(body.slice(2), 2);
  if (/^0[oO]/.test(body)) return sign * Number.parseInt(body.slice(2), 8);
  if (/^0[0-7]+$/.test(body)) return sign * Number.parseInt(body, 8);
  return sign * Number(body);
}

// ---------------------------------------------------------------------------------------------
// Parse tree

interface Located {
  pos: number;
  text: string;
}

type Arg = Located &
  (
    | { k: "field"; names: string[] }
    | { k: "var"; name: string; names: string[] }
    | { k: "chain"; node: Arg; names: string[] }
    | { k: "dot" }
    | { k: "nil" }
    | { k: "bool"; v: boolean }
    | { k: "number"; v: number }
    | { k: "string"; v: string }
    | { k: "ident"; name: string }
    | { k: "pipe"; pipe: Pipe }
  );

interface Command extends Located {
  args: Arg[];
}

interface Pipe extends Located {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

interface ControlNode {
  k: "if" | "with" | "range";
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | undefined;
}

type Node =
  | { k: "text"; v: string }
  | { k: "action"; pipe: Pipe }
  | ControlNode
  | ({ k: "break" | "continue" } & Located);

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "break",
  "continue",
  "define",
  "template",
  "block",
]);

class Parser {
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
    private readonly funcs: FuncTable,
    private readonly fail: (pos: number, msg: string) => never,
  ) {}

  parse(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) this.fail(stop.pos, `unexpected {{${stop.word}}}`);
    return nodes;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.t === "space") t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.t !== "right") this.fail(t.pos, `unexpected ${this.describe(t)} in ${context}`);
  }

  private describe(t: Token): string {
    if (t.t === "eof") return "EOF";
    if (t.t === "right") return "}}";
    return `"${this.src.slice(t.pos, this.endOf(t))}"`;
  }

  private endOf(t: Token): number {
    const after = this.tokens[this.tokens.indexOf(t) + 1];
    return after ? after.pos : this.src.length;
  }

  /** Items up to an {{else}} or {{end}} (which is consumed and reported) or EOF. */
  private list(): { nodes: Node[]; stop?: { word: "else" | "end"; pos: number } } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.t === "eof") {
        this.i--;
        return { nodes };
      }
      if (t.t === "text") {
        nodes.push({ k: "text", v: t.v });
        continue;
      }
      // t is a left delimiter
      const head = this.peekNonSpace();
      if (head.t === "ident" && KEYWORDS.has(head.v)) {
        this.nextNonSpace();
        switch (head.v) {
          case "end":
            this.expectRight("end");
            return { nodes, stop: { word: "end", pos: head.pos } };
          case "else":
            return { nodes, stop: { word: "else", pos: head.pos } };
          case "if":
          case "with":
          case "range":
            nodes.push(this.control(head.v, head.pos));
            continue;
          case "break":
          case "continue":
            if (this.rangeDepth === 0) this.fail(head.pos, `{{${head.v}}} outside {{range}}`);
            this.expectRight(head.v);
            nodes.push({ k: head.v, pos: head.pos, text: head.v });
            continue;
          default:
            this.fail(head.pos, `{{${head.v}}} is not supported`);
        }
      }
      nodes.push({ k: "action", pipe: this.pipeline("command", "right") });
    }
  }

  private control(kind: "if" | "with" | "range", pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, "right");
    if (kind === "range") this.rangeDepth++;
    const body = this.list();
    if (kind === "range") this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (!body.stop) this.fail(this.src.length, "unexpected EOF");
    if (body.stop.word === "else") {
      const after = this.peekNonSpace();
      if (kind !== "range" && after.t === "ident" && after.v === kind) {
        // {{else if …}} / {{else with …}}: a nested control sharing this one's {{end}}.
        this.nextNonSpace();
        elseList = [this.control(kind, after.pos)];
      } else {
        this.expectRight("else");
        const rest = this.list();
        if (!rest.stop) this.fail(this.src.length, "unexpected EOF");
        if (rest.stop.word !== "end") this.fail(rest.stop.pos, "expected end; found {{else}}");
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    void pos;
    return { k: kind, pipe, list: body.nodes, elseList };
  }

  private pipeline(context: string, end: "right" | "rparen"): Pipe {
    const start = this.peekNonSpace().pos;
    const decl: string[] = [];
    let isAssign = false;
    // Declarations: `$x :=`, `$x =`, and for range `$i, $e :=`.
    const save = this.i;
    const first = this.nextNonSpace();
    if (first.t === "var") {
      const after = this.nextNonSpace();
      if (after.t === "declare" || after.t === "assign") {
        decl.push(first.v);
        isAssign = after.t === "assign";
      } else if (after.t === "comma" && context === "range") {
        const second = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (second.t !== "var" || (op.t !== "declare" && op.t !== "assign")) {
          this.fail(second.pos, "range can only initialize variables");
        }
        decl.push(first.v, (second as { v: string }).v);
        isAssign = op.t === "assign";
      } else this.i = save;
    } else this.i = save;
    if (decl.length > 0) {
      if (isAssign) {
        for (const name of decl) {
          if (!this.vars.includes(name)) this.fail(start, `undefined variable "${name}"`);
        }
      } else this.vars.push(...decl);
    }

    const cmds: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.t === end) {
        this.nextNonSpace();
        break;
      }
      if (t.t === "eof" || t.t === "right" || t.t === "rparen") {
        this.fail(t.pos, `unexpected ${this.describe(t)} in ${context}`);
      }
      cmds.push(this.command(end));
    }
    if (cmds.length === 0) this.fail(start, `missing value for ${context}`);
    cmds.slice(1).forEach((cmd, n) => {
      const k = cmd.args[0]?.k;
      if (k === "bool" || k === "dot" || k === "nil" || k === "number" || k === "string") {
        this.fail(cmd.pos, `non executable command in pipeline stage ${n + 2}`);
      }
    });
    const last = cmds[cmds.length - 1]!;
    return { decl, isAssign, cmds, pos: start, text: this.src.slice(start, last.pos + last.text.length) };
  }

  private command(end: "right" | "rparen"): Command {
    const args: Arg[] = [];
    const start = this.peekNonSpace().pos;
    let stop = start;
    for (;;) {
      const t = this.peekNonSpace();
      if (t.t === end || t.t === "right" || t.t === "rparen" || t.t === "eof") break;
      if (t.t === "pipe") {
        this.nextNonSpace();
        if (args.length === 0) this.fail(t.pos, "missing value for command");
        break;
      }
      this.nextNonSpace();
      const arg = this.operand(t);
      args.push(arg);
      stop = arg.pos + arg.text.length;
      const after = this.peek();
      if (
        after.t !== "space" &&
        after.t !== end &&
        after.t !== "pipe" &&
        after.t !== "rparen" &&
        after.t !== "right"
      ) {
        this.fail(after.pos, `unexpected ${this.describe(after)} in operand`);
      }
    }
    if (args.length === 0) this.fail(start, "empty command");
    return { args, pos: start, text: this.src.slice(start, stop) };
  }

  private operand(t: Token): Arg {
    let term = this.term(t);
    if (this.peek().t === "field") {
      const names: string[] = [];
      while (this.peek().t === "field") names.push((this.next() as { v: string }).v);
      const end = this.tokens[this.i]?.pos ?? this.src.length;
      const text = this.src.slice(term.pos, end);
      if (term.k === "field") term = { ...term, names: [...term.names, ...names], text };
      else if (term.k === "var") term = { ...term, names: [...term.names, ...names], text };
      else if (
        term.k === "bool" ||
        term.k === "string" ||
        term.k === "number" ||
        term.k === "nil" ||
        term.k === "dot"
      ) {
        this.fail(term.pos, `unexpected . after term "${term.text}"`);
      } else term = { k: "chain", node: term, names, pos: term.pos, text };
    }
    return term;
  }

  private term(t: Token): Arg {
    const text = this.src.slice(t.pos, this.endOf(t));
    switch (t.t) {
      case "field": {
        const names = [t.v];
        return { k: "field", names, pos: t.pos, text };
      }
      case "dot":
        return { k: "dot", pos: t.pos, text };
      case "var":
        if (!this.vars.includes(t.v)) this.fail(t.pos, `undefined variable "${t.v}"`);
        return { k: "var", name: t.v, names: [], pos: t.pos, text };
      case "string":
        return { k: "string", v: t.v, pos: t.pos, text: t.raw };
      case "number":
        return { k: "number", v: t.v, pos: t.pos, text: t.raw };
      case "ident":
        if (t.v === "true" || t.v === "false") return { k: "bool", v: t.v === "true", pos: t.pos, text };
        if (t.v === "nil") return { k: "nil", pos: t.pos, text };
        if (!(t.v in this.funcs)) this.fail(t.pos, `function "${t.v}" not defined`);
        return { k: "ident", name: t.v, pos: t.pos, text };
      case "lparen": {
        const pipe = this.pipeline("parenthesized pipeline", "rparen");
        const end = this.tokens[this.i - 1]!.pos + 1;
        return { k: "pipe", pipe, pos: t.pos, text: this.src.slice(t.pos, end) };
      }
      default:
        return this.fail(t.pos, `unexpected ${this.describe(t)} in operand`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Functions

type Param = "any" | "string" | "int" | "strings";

interface Func {
  /** Parameter kinds; a trailing "..." entry makes the last one variadic. */
  params: Param[];
  variadic?: boolean;
  fn: (...args: never[]) => unknown;
}

type FuncTable = Record<string, Func>;

const fn = (params: Param[], f: (...args: never[]) => unknown, variadic = false): Func => ({
  params,
  fn: f,
  variadic,
});

/** strings.Title: the first letter of each word to title case; words break at non-alphanumerics. */
function goTitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isTitleSeparator(prev) ? goToUpper(ch) : ch;
    prev = ch;
  }
  return out;
}

function isTitleSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9a-zA-Z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** unicode.ToUpper per rune: Go never turns one rune into several ("ß" stays "ß"). */
function goToUpper(s: string): string {
  let out = "";
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += [...u].length === 1 ? u : ch;
  }
  return out;
}

function goToLower(s: string): string {
  let out = "";
  for (const ch of s) {
    const l = ch.toLowerCase();
    out += [...l].length === 1 ? l : ch;
  }
  return out;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

function isTrue(v: unknown): boolean {
  switch (goKind(v)) {
    case "invalid":
    case "nil":
      return false;
    case "bool":
      return v as boolean;
    case "int":
    case "float":
      return Number(v) !== 0;
    case "string":
      return (v as string).length > 0;
    case "slice":
      return (v as ArrayLike<unknown>).length > 0;
    case "map":
      return mapEntries(v as object).length > 0;
    default:
      return true;
  }
}

class FuncError extends Error {}

function basicKind(v: unknown): "bool" | "number" | "string" | "nil" | "other" {
  const k = goKind(v);
  if (k === "bool") return "bool";
  if (k === "int" || k === "float") return "number";
  if (k === "string") return "string";
  if (k === "nil" || k === "invalid") return "nil";
  return "other";
}

function goEq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new FuncError("missing argument for comparison");
  const ka = basicKind(a);
  if (ka === "other") throw new FuncError("invalid type for comparison");
  for (const b of rest) {
    const kb = basicKind(b);
    if (ka === "nil" || kb === "nil") {
      if ((a ?? null) === (b ?? null)) return true;
      continue;
    }
    if (ka !== kb) throw new FuncError("incompatible types for comparison");
    if (a === b) return true;
  }
  return false;
}

function goLess(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === "other" || ka === "nil" || ka === "bool" || kb === "other" || kb === "nil" || kb === "bool") {
    throw new FuncError("invalid type for comparison");
  }
  if (ka !== kb) throw new FuncError("incompatible types for comparison");
  return ka === "string" ? compareGoStrings(a as string, b as string) < 0 : (a as number) < (b as number);
}

function goIndex(item: unknown, ...indexes: unknown[]): unknown {
  let v = item;
  for (const index of indexes) {
    const kind = goKind(v);
    if (kind === "invalid" || kind === "nil") throw new FuncError("index of untyped nil");
    if (kind === "slice" || kind === "string") {
      if (typeof index !== "number" || !Number.isInteger(index)) {
        throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
      }
      const len = kind === "string" ? byteLength(v as string) : (v as ArrayLike<unknown>).length;
      if (index < 0 || index >= len) throw new FuncError(`index out of range: ${index}`);
      v = kind === "string" ? Buffer.from(v as string, "utf8")[index] : (v as ArrayLike<unknown>)[index];
    } else if (kind === "map") {
      const { found, value } = lookup(v as object, String(index));
      if (found) v = value;
      else {
        // A missing key gives the element type's zero value: "" for map[string]string.
        const values = mapEntries(v as object).map(([, x]) => x);
        v = values.length > 0 && values.every((x) => typeof x === "string") ? "" : undefined;
      }
    } else throw new FuncError(`can't index item of type ${goTypeName(v)}`);
  }
  return v;
}

function goSlice(item: unknown, ...indexes: unknown[]): unknown {
  const kind = goKind(item);
  if (kind !== "string" && kind !== "slice")
    throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  if (indexes.length > 3 || (kind === "string" && indexes.length > 2)) {
    throw new FuncError(`too many slice indexes: ${indexes.length}`);
  }
  const bytes = kind === "string" ? Buffer.from(item as string, "utf8") : undefined;
  const len = bytes ? bytes.length : (item as unknown[]).length;
  const idx = indexes.map((x) => {
    if (typeof x !== "number" || !Number.isInteger(x))
      throw new FuncError("cannot index slice with non-integer");
    return x;
  });
  const lo = idx[0] ?? 0;
  const hi = idx[1] ?? len;
  if (lo < 0 || hi > len || lo > hi) throw new FuncError(`invalid slice index: ${lo} > ${hi}`);
  return bytes ? bytes.subarray(lo, hi).toString("utf8") : (item as unknown[]).slice(lo, hi);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    c === "\0"
      ? "\uFFFD"
      : c === '"'
        ? "&#34;"
        : c === "'"
          ? "&#39;"
          : c === "&"
            ? "&amp;"
            : c === "<"
              ? "&lt;"
              : "&gt;",
  );
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\" || ch === "'" || ch === '"') out += `\\${ch}`;
    else if ("<>&=".includes(ch)) out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
    else if (c < 0x20 || !/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) {
      out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
    } else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

function dockerJson(v: unknown): string {
  // docker's `json` ignores the encoder's error and prints what it wrote: nothing.
  try {
    return goJson(v, { escapeHtml: isFormatterContext(v) });
  } catch (e) {
    if (e instanceof GoJsonError) return "";
    throw e;
  }
}

const BUILTINS: FuncTable = {
  and: fn(["any", "any"], () => undefined, true), // evaluated lazily by the executor
  or: fn(["any", "any"], () => undefined, true),
  not: fn(["any"], (v: unknown) => !isTrue(v)),
  len: fn(["any"], (v: unknown) => {
    const kind = goKind(v);
    if (kind === "string") return byteLength(v as string);
    if (kind === "slice") return (v as ArrayLike<unknown>).length;
    if (kind === "map") return mapEntries(v as object).length;
    if (kind === "invalid" || kind === "nil") throw new FuncError("len of nil pointer");
    throw new FuncError(`len of type ${goTypeName(v)}`);
  }),
  index: fn(["any", "any"], goIndex as (...args: never[]) => unknown, true),
  slice: fn(["any", "any"], goSlice as (...args: never[]) => unknown, true),
  print: fn(["any"], (...args: unknown[]) => goSprint(args), true),
  printf: fn(["string", "any"], (format: string, ...args: unknown[]) => goSprintf(format, args), true),
  println: fn(["any"], (...args: unknown[]) => goSprintln(args), true),
  eq: fn(["any", "any"], goEq as (...args: never[]) => unknown, true),
  ne: fn(["any", "any"], (a: unknown, b: unknown) => !goEq(a, b)),
  lt: fn(["any", "any"], (a: unknown, b: unknown) => goLess(a, b)),
  le: fn(["any", "any"], (a: unknown, b: unknown) => goLess(a, b) || goEq(a, b)),
  gt: fn(["any", "any"], (a: unknown, b: unknown) => !goLess(a, b) && !goEq(a, b)),
  ge: fn(["any", "any"], (a: unknown, b: unknown) => !goLess(a, b)),
  html: fn(["any"], (...args: unknown[]) => htmlEscape(goSprint(args)), true),
  js: fn(["any"], (...args: unknown[]) => jsEscape(goSprint(args)), true),
  urlquery: fn(["any"], (...args: unknown[]) => queryEscape(goSprint(args)), true),
  call: fn(
    ["any", "any"],
    (f: unknown, ...args: unknown[]) => {
      if (typeof f !== "function") throw new FuncError(`non-function of type ${goTypeName(f)}`);
      return (f as (...a: unknown[]) => unknown)(...args);
    },
    true,
  ),
};

// The functions docker adds (github.com/docker/cli templates/templates.go).
const DOCKER_FUNCS: FuncTable = {
  json: fn(["any"], dockerJson),
  split: fn(["string", "string"], (s: string, sep: string) => (sep === "" ? [...s] : s.split(sep))),
  join: fn(["strings", "string"], (list: string[], sep: string) => list.join(sep)),
  title: fn(["string"], goTitle),
  lower: fn(["string"], goToLower),
  upper: fn(["string"], goToUpper),
  pad: fn(["string", "int", "int"], (s: string, prefix: number, suffix: number) => {
    if (s === "") return s;
    if (prefix < 0 || suffix < 0) throw new FuncError("strings: negative Repeat count");
    return " ".repeat(prefix) + s + " ".repeat(suffix);
  }),
  truncate: fn(["string", "int"], (s: string, n: number) => {
    const bytes = Buffer.from(s, "utf8");
    if (bytes.length < n) return s;
    if (n < 0) throw new FuncError(`runtime error: slice bounds out of range [:${n}]`);
    return bytes.subarray(0, n).toString("utf8");
  }),
};

// docker renders a table's header with these in place of its own, so that a column's
// header reads as its name whatever function the column applies (templates.HeaderFunctions).
const HEADER_FUNCS: FuncTable = {
  json: fn(["string"], (v: string) => v),
  split: fn(["string", "string"], (v: string) => v),
  join: fn(["string", "string"], (v: string) => v),
  title: fn(["string"], (v: string) => v),
  lower: fn(["string"], (v: string) => v),
  upper: fn(["string"], (v: string) => v),
  truncate: fn(["string", "int"], (v: string) => v),
};

const FUNCS: FuncTable = { ...BUILTINS, ...DOCKER_FUNCS };

// ---------------------------------------------------------------------------------------------
// Execution

class Break {}
class Continue {}

const NONE: unique symbol = Symbol("no final value");
type Final = unknown | typeof NONE;

export interface ExecuteOptions {
  /**
   * What a missing map key gives, as Go's missingkey option: "default" prints "<no value>",
   * "zero" gives the zero value (undefined here, so also "<no value>"), "error" stops.
   */
  missingKey?: "default" | "zero" | "error";
}

class Exec {
  readonly out: string[] = [];
  private vars: { name: string; value: unknown }[];
  private readonly root: unknown;

  constructor(
    private readonly tmpl: Template,
    data: unknown,
    private readonly funcs: FuncTable,
    private readonly options: ExecuteOptions,
    rootIsStruct = true,
  ) {
    this.root = rootIsStruct ? data : undefined;
    this.vars = [{ name: "$", value: data }];
  }

  private fail(node: Located, msg: string): never {
    const { line, col } = this.tmpl.location(node.pos);
    throw new TemplateError(
      `template: ${this.tmpl.name}:${line}:${col}: executing "${this.tmpl.name}" at <${node.text}>: ${msg}`,
    );
  }

  walk(dot: unknown, nodes: Node[]): void {
    for (const node of nodes) {
      switch (node.k) {
        case "text":
          this.out.push(node.v);
          break;
        case "action": {
          const v = this.pipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.out.push(v === undefined ? "<no value>" : goString(v));
          break;
        }
        case "if":
        case "with": {
          const mark = this.vars.length;
          const v = this.pipeline(dot, node.pipe);
          if (isTrue(v)) this.walk(node.k === "with" ? v : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
          this.vars.length = mark;
          break;
        }
        case "range":
          this.range(dot, node);
          break;
        case "break":
          throw new Break();
        case "continue":
          throw new Continue();
      }
    }
  }

  private range(dot: unknown, node: ControlNode): void {
    const mark = this.vars.length;
    const v = this.pipeline(dot, node.pipe);
    const inner = this.vars.length;
    const decl = node.pipe.decl;
    const one = (key: unknown, elem: unknown): boolean => {
      if (decl.length > 0) {
        if (node.pipe.isAssign) {
          if (decl.length > 1) {
            this.setVar(decl[0]!, key);
            this.setVar(decl[1]!, elem);
          } else this.setVar(decl[0]!, elem);
        } else if (decl.length > 1) {
          this.vars[this.vars.length - 2]!.value = key;
          this.vars[this.vars.length - 1]!.value = elem;
        } else this.vars[this.vars.length - 1]!.value = elem;
      }
      try {
        this.walk(elem, node.list);
      } catch (e) {
        if (e instanceof Break) return false;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = inner;
      }
      return true;
    };
    let count = 0;
    const kind = goKind(v);
    if (kind === "slice") {
      const items = Array.from(v as ArrayLike<unknown>);
      for (let i = 0; i < items.length; i++) {
        count++;
        if (!one(i, items[i])) break;
      }
    } else if (kind === "map") {
      for (const [k, x] of mapEntries(v as object)) {
        count++;
        if (!one(k, x)) break;
      }
    } else if (kind === "int") {
      if (decl.length > 1) this.fail(node.pipe, "can't use 2 variables with range over int");
      for (let i = 0; i < (v as number); i++) {
        count++;
        if (!one(i, i)) break;
      }
    } else if (kind !== "invalid" && kind !== "nil") {
      this.fail(node.pipe, `range can't iterate over ${goString(v)}`);
    }
    if (count === 0 && node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
  }

  private varValue(node: Located, name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.fail(node, `undefined variable: ${name}`);
  }

  private pipeline(dot: unknown, pipe: Pipe): unknown {
    let value: Final = NONE;
    for (const cmd of pipe.cmds) value = this.command(dot, cmd, value);
    const result = value === NONE ? undefined : value;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, result);
      else this.vars.push({ name, value: result });
    }
    return result;
  }

  private command(dot: unknown, cmd: Command, final: Final): unknown {
    const [first, ...args] = cmd.args as [Arg, ...Arg[]];
    switch (first.k) {
      case "field":
        return this.fieldChain(dot, dot, first, first.names, args, final);
      case "chain":
        return this.fieldChain(dot, this.arg(dot, first.node), first, first.names, args, final);
      case "var": {
        const v = this.varValue(first, first.name);
        if (first.names.length > 0) return this.fieldChain(dot, v, first, first.names, args, final);
        this.notAFunction(first, args, final);
        return v;
      }
      case "ident":
        return this.call(dot, first, first.name, args, final);
      case "pipe":
        this.notAFunction(first, args, final);
        return this.pipeline(dot, first.pipe);
      case "nil":
        return this.fail(first, "nil is not a command");
      default:
        this.notAFunction(first, args, final);
        return this.arg(dot, first);
    }
  }

  private notAFunction(node: Arg, args: Arg[], final: Final): void {
    if (args.length > 0 || final !== NONE)
      this.fail(node, `can't give argument to non-function ${node.text}`);
  }

  private arg(dot: unknown, a: Arg): unknown {
    switch (a.k) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
      case "number":
      case "string":
        return a.v;
      case "field":
        return this.fieldChain(dot, dot, a, a.names, [], NONE);
      case "var": {
        const v = this.varValue(a, a.name);
        return a.names.length > 0 ? this.fieldChain(dot, v, a, a.names, [], NONE) : v;
      }
      case "chain":
        return this.fieldChain(dot, this.arg(dot, a.node), a, a.names, [], NONE);
      case "pipe":
        return this.pipeline(dot, a.pipe);
      case "ident":
        return this.call(dot, a, a.name, [], NONE);
    }
  }

  private fieldChain(
    dot: unknown,
    receiver: unknown,
    node: Arg,
    names: string[],
    args: Arg[],
    final: Final,
  ): unknown {
    let v = receiver;
    for (let i = 0; i < names.length - 1; i++) v = this.field(dot, names[i]!, node, [], NONE, v);
    return this.field(dot, names[names.length - 1]!, node, args, final, v);
  }

  private field(
    dot: unknown,
    name: string,
    node: Arg,
    args: Arg[],
    final: Final,
    receiver: unknown,
  ): unknown {
    if (receiver === undefined) {
      if (this.options.missingKey === "error") this.fail(node, `nil data; no entry for key "${name}"`);
      return undefined;
    }
    if (receiver === null) return this.fail(node, `nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 0 || final !== NONE;
    let kind = goKind(receiver);
    if (kind === "map" && receiver === this.root && !(receiver instanceof Map)) kind = "struct";
    if (kind === "struct") {
      const { found, value } = lookup(receiver as object, name);
      if (!found) return this.fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
      if (typeof value === "function") {
        const values = args.map((a) => this.arg(dot, a));
        if (final !== NONE) values.push(final);
        try {
          return (value as (...a: unknown[]) => unknown).apply(receiver, values);
        } catch (e) {
          if (e instanceof TemplateError) throw e;
          return this.fail(node, `error calling ${name}: ${(e as Error).message}`);
        }
      }
      if (hasArgs) this.fail(node, `${name} has arguments but cannot be invoked as function`);
      return value;
    }
    if (kind === "map") {
      if (hasArgs) this.fail(node, `${name} is not a method but has arguments`);
      const { found, value } = lookup(receiver as object, name);
      if (!found && this.options.missingKey === "error")
        this.fail(node, `map has no entry for key "${name}"`);
      return value;
    }
    return this.fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private call(dot: unknown, node: Arg, name: string, argNodes: Arg[], final: Final): unknown {
    const f = this.funcs[name];
    if (!f) return this.fail(node, `"${name}" is not a defined function`);
    const count = argNodes.length + (final === NONE ? 0 : 1);
    const want = f.params.length;
    if (f.variadic ? count < want - 1 : count !== want) {
      this.fail(
        node,
        `wrong number of args for ${name}: want ${f.variadic ? "at least " : ""}${f.variadic ? want - 1 : want} got ${count}`,
      );
    }
    if (name === "and" || name === "or") {
      // Go 1.18+: evaluation stops at the first argument that decides the result.
      let v: unknown;
      for (const a of argNodes) {
        v = this.arg(dot, a);
        if (isTrue(v) === (name === "or")) return v;
      }
      return final === NONE ? v : final;
    }
    const values = argNodes.map((a) => this.arg(dot, a));
    if (final !== NONE) values.push(final);
    values.forEach((v, i) => {
      const p = f.params[Math.min(i, f.params.length - 1)]!;
      this.check(argNodes[i] ?? node, p, v);
    });
    try {
      return (f.fn as (...a: unknown[]) => unknown)(...values);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      return this.fail(node, `error calling ${name}: ${(e as Error).message}`);
    }
  }

  private check(node: Located, param: Param, v: unknown): void {
    if (param === "any") return;
    const want = param === "strings" ? "[]string" : param;
    if (v === undefined) this.fail(node, `invalid value; expected ${want}`);
    const ok =
      param === "string"
        ? typeof v === "string"
        : param === "int"
          ? typeof v === "number" && Number.isInteger(v)
          : Array.isArray(v) && v.every((x) => typeof x === "string");
    if (!ok) this.fail(node, `wrong type for value; expected ${want}; got ${goTypeName(v)}`);
  }
}

/** A parsed template, reusable across values. */
export class Template {
  /** Go's template name; docker's are anonymous, which is why its messages read `template: :1:…`. */
  readonly name = "";
  private readonly nodes: Node[];

  private constructor(readonly source: string) {
    const fail = (pos: number, msg: string): never => {
      throw new TemplateError(`template: ${this.name}:${this.location(pos).line}: ${msg}`);
    };
    const tokens = new Lexer(source, fail).run();
    this.nodes = new Parser(source, tokens, FUNCS, fail).parse();
  }

  static parse(source: string): Template {
    return new Template(source);
  }

  /** Line (from 1) and byte column (from 0) of a source offset, as Go reports them. */
  location(pos: number): { line: number; col: number } {
    const before = this.source.slice(0, pos);
    const nl = before.lastIndexOf("\n");
    return { line: before.split("\n").length, col: byteLength(before.slice(nl + 1)) };
  }

  execute(data: unknown, options: ExecuteOptions = {}): string {
    const exec = new Exec(this, data, FUNCS, options);
    exec.walk(data, this.nodes);
    return exec.out.join("");
  }

  /**
   * A table's header row as docker renders it: the same template over a map of column
   * headers, with the string functions made identities; an error ends the output where it
   * happened rather than failing (docker ignores it).
   */
  executeHeader(headers: Record<string, string>): string {
    const exec = new Exec(this, headers, { ...FUNCS, ...HEADER_FUNCS }, {}, false);
    try {
      exec.walk(headers, this.nodes);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
    }
    return exec.out.join("");
  }
}

/** Parses a template; throws {@link TemplateError} with Go's message when it does not parse. */
export function parseTemplate(source: string): Template {
  return Template.parse(source);
}

/** Parses and runs a template against one value. */
export function renderTemplate(source: string, data: unknown, options?: ExecuteOptions): string {
  return Template.parse(source).execute(data, options);
}

/** docker turns a literal `\t` or `\n` typed in --format into a tab or a newline. */
export function expandEscapes(format: string): string {
  return format.replace(/\\[tn]/g, (m) => (m === "\\t" ? "\t" : "\n"));
}
