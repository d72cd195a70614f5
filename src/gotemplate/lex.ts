/**
 * The lexer of Go's text/template (text/template/parse/lex.go): text, and inside `{{ }}` the
 * tokens of an action, with trim markers (`{{- ` and ` -}}`) applied here so the parser never
 * sees them. It stops at the first error, which it returns as an item.
 */
import { isPrint, quote } from "./strconv.js";

export type ItemType =
  | "error"
  | "bool"
  | "char"
  | "charConstant"
  | "comment"
  | "complex"
  | "assign"
  | "declare"
  | "EOF"
  | "field"
  | "identifier"
  | "leftDelim"
  | "leftParen"
  | "number"
  | "pipe"
  | "rawString"
  | "rightDelim"
  | "rightParen"
  | "space"
  | "string"
  | "text"
  | "variable"
  // keywords
  | "block"
  | "break"
  | "continue"
  | "dot"
  | "define"
  | "else"
  | "end"
  | "if"
  | "nil"
  | "range"
  | "template"
  | "with";

export interface Item {
  readonly typ: ItemType;
  /** Byte offset... in UTF-16 code units of the input, which is what JavaScript strings index. */
  readonly pos: number;
  readonly val: string;
  /** Line of the item's start, from 1. */
  readonly line: number;
}

const KEYWORDS: Record<string, ItemType> = {
  ".": "dot",
  block: "block",
  break: "break",
  continue: "continue",
  define: "define",
  else: "else",
  end: "end",
  if: "if",
  range: "range",
  nil: "nil",
  template: "template",
  with: "with",
};

const KEYWORD_TYPES = new Set<ItemType>(Object.values(KEYWORDS));

export function isKeyword(t: ItemType): boolean {
  return KEYWORD_TYPES.has(t);
}

/** How an item reads in a parse error: EOF, <keyword>, or the quoted text (cut at 10 characters). */
export function itemString(item: Item): string {
  if (item.typ === "EOF") return "EOF";
  if (item.typ === "error") return item.val;
  if (isKeyword(item.typ)) return `<${item.val}>`;
  const runes = [...item.val];
  if (runes.length > 10) return `${quote(runes.slice(0, 10).join(""))}...`;
  return quote(item.val);
}

/** fmt's %#U: U+0021 '!' (the character only when printable). */
export function formatU(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return isPrint(ch) ? `${hex} '${ch}'` : hex;
}

export interface LexOptions {
  leftDelim?: string;
  rightDelim?: string;
  /** Emit comment items (parse.ParseComments). */
  emitComment?: boolean;
  /** `break` and `continue` are keywords unless a function of that name exists. */
  breakOK?: boolean;
  continueOK?: boolean;
}

const LEFT_COMMENT = "/*";
const RIGHT_COMMENT = "*/";

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && ALNUM.test(c);
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === "-" && isSpace(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpace(s[at]) && s[at + 1] === "-";
}

type StateFn = ((l: Lexer) => StateFn) | null;

/** Scans a template into items; {@link lex} returns them all. */
export class Lexer {
  readonly items: Item[] = [];
  private pos = 0;
  /** Where the item being scanned starts. */
  start = 0;
  private parenDepth = 0;
  private readonly leftDelim: string;
  private readonly rightDelim: string;
  private readonly lineStarts: number[] = [];

  constructor(
    readonly input: string,
    readonly options: LexOptions = {},
  ) {
    this.leftDelim = options.leftDelim || "{{";
    this.rightDelim = options.rightDelim || "}}";
    for (let i = input.indexOf("\n"); i >= 0; i = input.indexOf("\n", i + 1)) this.lineStarts.push(i);
  }

  /** 1 + the number of newlines before pos. */
  lineAt(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.lineStarts[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  run(): Item[] {
    let state: StateFn = lexText;
    while (state) state = state(this);
    return this.items;
  }

  // ---- primitives

  next(): string | undefined {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1;
      return undefined;
    }
    const cp = this.input.codePointAt(this.pos)!;
    const ch = String.fromCodePoint(cp);
    this.pos += ch.length;
    return ch;
  }

  /** Steps back over the character `next` returned (or past the end). */
  backup(ch: string | undefined): void {
    this.pos -= ch === undefined ? 1 : ch.length;
  }

  peek(): string | undefined {
    const ch = this.next();
    this.backup(ch);
    return ch;
  }

  emit(typ: ItemType): StateFn {
    this.items.push({
      typ,
      pos: this.start,
      val: this.input.slice(this.start, this.pos),
      line: this.lineAt(this.start),
    });
    this.start = this.pos;
    return lexInsideAction;
  }

  emitOnly(typ: ItemType): void {
    this.items.push({
      typ,
      pos: this.start,
      val: this.input.slice(this.start, this.pos),
      line: this.lineAt(this.start),
    });
    this.start = this.pos;
  }

  ignore(): void {
    this.start = this.pos;
  }

  accept(valid: string): boolean {
    const ch = this.next();
    if (ch !== undefined && valid.includes(ch)) return true;
    this.backup(ch);
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const ch = this.next();
      if (ch === undefined || !valid.includes(ch)) {
        this.backup(ch);
        return;
      }
    }
  }

  errorf(message: string): StateFn {
    this.items.push({ typ: "error", pos: this.start, val: message, line: this.lineAt(this.start) });
    return null;
  }

  // ---- state helpers

  get position(): number {
    return this.pos;
  }

  set position(p: number) {
    this.pos = p;
  }

  get left(): string {
    return this.leftDelim;
  }

  get right(): string {
    return this.rightDelim;
  }

  get depth(): number {
    return this.parenDepth;
  }

  set depth(d: number) {
    this.parenDepth = d;
  }

  atRightDelim(): { delim: boolean; trimSpaces: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(this.rightDelim, this.pos + 2)) {
      return { delim: true, trimSpaces: true };
    }
    if (this.input.startsWith(this.rightDelim, this.pos)) return { delim: true, trimSpaces: false };
    return { delim: false, trimSpaces: false };
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (r === undefined || isSpace(r)) return true;
    if (".,|:)(".includes(r)) return true;
    return this.input.startsWith(this.rightDelim, this.pos);
  }
}

function lexText(l: Lexer): StateFn {
  const input = l.input;
  const x = input.indexOf(l.left, l.position);
  if (x >= 0) {
    const ldn = l.left.length;
    l.position = x;
    let trimLength = 0;
    if (hasLeftTrimMarker(input, x + ldn)) {
      const before = input.slice(l.start, x);
      trimLength = before.length - before.replace(/[ \t\r\n]+$/, "").length;
    }
    l.position = x - trimLength;
    if (l.position > l.start) l.emitOnly("text");
    l.position = x;
    l.ignore();
    return lexLeftDelim;
  }
  l.position = input.length;
  if (l.position > l.start) l.emitOnly("text");
  l.emitOnly("EOF");
  return null;
}

function lexLeftDelim(l: Lexer): StateFn {
  const input = l.input;
  l.position += l.left.length;
  const trimSpace = hasLeftTrimMarker(input, l.position);
  const afterMarker = trimSpace ? 2 : 0;
  if (input.startsWith(LEFT_COMMENT, l.position + afterMarker)) {
    l.position += afterMarker;
    l.ignore();
    return lexComment;
  }
  l.emitOnly("leftDelim");
  l.position += afterMarker;
  l.ignore();
  l.depth = 0;
  return lexInsideAction;
}

function lexComment(l: Lexer): StateFn {
  const input = l.input;
  l.position += LEFT_COMMENT.length;
  const i = input.indexOf(RIGHT_COMMENT, l.position);
  if (i < 0) return l.errorf("unclosed comment");
  l.position = i + RIGHT_COMMENT.length;
  const { delim, trimSpaces } = l.atRightDelim();
  if (!delim) return l.errorf("comment ends before closing delimiter");
  if (l.options.emitComment) l.emitOnly("comment");
  if (trimSpaces) l.position += 2;
  l.position += l.right.length;
  if (trimSpaces) l.position += leftTrimLength(input, l.position);
  l.ignore();
  return lexText;
}

function leftTrimLength(s: string, at: number): number {
  let n = 0;
  while (isSpace(s[at + n])) n++;
  return n;
}

function lexRightDelim(l: Lexer): StateFn {
  const input = l.input;
  const trimSpace = hasRightTrimMarker(input, l.position);
  if (trimSpace) {
    l.position += 2;
    l.ignore();
  }
  l.position += l.right.length;
  l.emitOnly("rightDelim");
  if (trimSpace) {
    l.position += leftTrimLength(input, l.position);
    l.ignore();
  }
  return lexText;
}

function lexInsideAction(l: Lexer): StateFn {
  const { delim } = l.atRightDelim();
  if (delim) {
    if (l.depth === 0) return lexRightDelim;
    return l.errorf("unclosed left paren");
  }
  const r = l.next();
  if (r === undefined) return l.errorf("unclosed action");
  if (isSpace(r)) {
    l.backup(r);
    return lexSpace;
  }
  switch (r) {
    case "=":
      return l.emit("assign");
    case ":":
      if (l.next() !== "=") return l.errorf("expected :=");
      return l.emit("declare");
    case "|":
      return l.emit("pipe");
    case '"':
      return lexQuote;
    case "`":
      return lexRawQuote;
    case "$":
      return lexVariable;
    case "'":
      return lexChar;
    case "(":
      l.depth++;
      return l.emit("leftParen");
    case ")":
      l.depth--;
      if (l.depth < 0) return l.errorf("unexpected right paren");
      return l.emit("rightParen");
  }
  if (r === ".") {
    const c = l.input[l.position];
    if (l.position < l.input.length && (c! < "0" || c! > "9")) return lexField;
  }
  if (r === "." || r === "+" || r === "-" || (r >= "0" && r <= "9")) {
    l.backup(r);
    return lexNumber;
  }
  if (isAlphaNumeric(r)) {
    l.backup(r);
    return lexIdentifier;
  }
  const cp = r.codePointAt(0)!;
  if (cp <= 0x7f && isPrint(r)) return l.emit("char");
  return l.errorf(`unrecognized character in action: ${formatU(r)}`);
}

function lexSpace(l: Lexer): StateFn {
  let numSpaces = 0;
  while (isSpace(l.peek())) {
    l.next();
    numSpaces++;
  }
  // A trim-marked right delimiter has a space before its '-': leave that space to the delimiter.
  const at = l.position - 1;
  if (hasRightTrimMarker(l.input, at) && l.input.startsWith(l.right, at + 2)) {
    l.position = at;
    if (numSpaces === 1) return lexRightDelim;
  }
  return l.emit("space");
}

function lexIdentifier(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (isAlphaNumeric(r)) continue;
    l.backup(r);
    const start = l.start;
    const word = l.input.slice(start, l.position);
    if (!l.atTerminator()) return l.errorf(`bad character ${formatU(r ?? "")}`);
    const key = KEYWORDS[word];
    if (key && key !== "dot") {
      if ((key === "break" && !l.options.breakOK) || (key === "continue" && !l.options.continueOK)) {
        return l.emit("identifier");
      }
      return l.emit(key);
    }
    if (word === "true" || word === "false") return l.emit("bool");
    return l.emit("identifier");
  }
}

function lexField(l: Lexer): StateFn {
  return lexFieldOrVariable(l, "field");
}

function lexVariable(l: Lexer): StateFn {
  if (l.atTerminator()) return l.emit("variable");
  return lexFieldOrVariable(l, "variable");
}

function lexFieldOrVariable(l: Lexer, typ: "field" | "variable"): StateFn {
  if (l.atTerminator()) return l.emit(typ === "variable" ? "variable" : "dot");
  let r: string | undefined;
  for (;;) {
    r = l.next();
    if (!isAlphaNumeric(r)) {
      l.backup(r);
      break;
    }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${formatU(r ?? "")}`);
  return l.emit(typ);
}

function lexChar(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (r === "\\") {
      const e = l.next();
      if (e !== undefined && e !== "\n") continue;
      return l.errorf("unterminated character constant");
    }
    if (r === undefined || r === "\n") return l.errorf("unterminated character constant");
    if (r === "'") break;
  }
  return l.emit("charConstant");
}

function lexNumber(l: Lexer): StateFn {
  const start = l.start;
  if (!scanNumber(l)) return l.errorf(`bad number syntax: ${quote(l.input.slice(start, l.position))}`);
  const sign = l.peek();
  if (sign === "+" || sign === "-") {
    if (!scanNumber(l) || l.input[l.position - 1] !== "i") {
      return l.errorf(`bad number syntax: ${quote(l.input.slice(start, l.position))}`);
    }
    return l.emit("complex");
  }
  return l.emit("number");
}

function scanNumber(l: Lexer): boolean {
  l.accept("+-");
  let digits = "0123456789_";
  if (l.accept("0")) {
    if (l.accept("xX")) digits = "0123456789abcdefABCDEF_";
    else if (l.accept("oO")) digits = "01234567_";
    else if (l.accept("bB")) digits = "01_";
  }
  l.acceptRun(digits);
  if (l.accept(".")) l.acceptRun(digits);
  if (digits.length === 11 && l.accept("eE")) {
    l.accept("+-");
    l.acceptRun("0123456789_");
  }
  if (digits.length === 23 && l.accept("pP")) {
    l.accept("+-");
    l.acceptRun("0123456789_");
  }
  l.accept("i");
  if (isAlphaNumeric(l.peek())) {
    l.next();
    return false;
  }
  return true;
}

function lexQuote(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (r === "\\") {
      const e = l.next();
      if (e !== undefined && e !== "\n") continue;
      return l.errorf("unterminated quoted string");
    }
    if (r === undefined || r === "\n") return l.errorf("unterminated quoted string");
    if (r === '"') break;
  }
  return l.emit("string");
}

function lexRawQuote(l: Lexer): StateFn {
  for (;;) {
    const r = l.next();
    if (r === undefined) return l.errorf("unterminated raw quoted string");
    if (r === "`") break;
  }
  return l.emit("rawString");
}

/** All the items of a template, ending with EOF or an error item. */
export function lex(input: string, options: LexOptions = {}): Item[] {
  return new Lexer(input, { breakOK: true, continueOK: true, ...options }).run();
}
