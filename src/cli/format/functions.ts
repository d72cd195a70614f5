/**
 * The functions the docker CLI adds to Go's (github.com/docker/cli templates/templates.go): json,
 * split, join, title, lower, upper, pad, truncate; and the stand-ins it uses to render a table's
 * header row, which leave a column's name as it is whatever function the column applies.
 */
import { type FuncMap, Template } from "../../gotemplate/template.js";
import { ANY, funcOf, type GoType, INT, STRING, sliceOf } from "../../gotemplate/types.js";
import { goFunc } from "../../gotemplate/values.js";
import { GoJsonError, goJson } from "./json.js";

const contexts = new WeakSet<object>();

/**
 * Marks a row as one of the docker formatter's contexts: `{{json .}}` encodes it as
 * formatter.MarshalJSON does (a map of its fields, so sorted keys, through json.Marshal, so <, >
 * and & escaped).
 */
export function formatterContext<T extends object>(value: T): T {
  contexts.add(value);
  return value;
}

/** The `json` function: the value as json.Encoder writes it with SetEscapeHTML(false), trimmed. */
export function templateJson(v: unknown): string {
  try {
    return goJson(v, { escapeHtml: false, asMarshaledMap: (o) => contexts.has(o) }).trim();
  } catch (e) {
    // docker ignores the encoder's error and prints what it wrote: nothing.
    if (e instanceof GoJsonError) return "";
    throw e;
  }
}

/** unicode.ToUpper rune by rune: Go never turns one rune into several ("ß" stays "ß"). */
function mapRunes(s: string, f: (ch: string) => string): string {
  let out = "";
  for (const ch of s) {
    const m = f(ch);
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

export const goToUpper = (s: string) => mapRunes(s, (c) => c.toUpperCase());
// İ is the one letter whose lower case JavaScript spells with two code points and Go with one.
export const goToLower = (s: string) => mapRunes(s, (c) => (c === "\u0130" ? "i" : c.toLowerCase()));

/** strings.Title: each word's first letter upper-cased; words break at what is not a letter or digit. */
export function goTitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isSeparator(prev) ? mapRunes(ch, (c) => c.toUpperCase()) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9a-zA-Z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** strings.Split: an empty separator splits into UTF-8 sequences (one string per rune). */
function split(s: string, sep: string): string[] {
  return sep === "" ? [...s] : s.split(sep);
}

/** docker's truncateWithLength: the first `length` bytes of s (which can cut a rune, as Go's slicing does). */
function truncate(s: string, length: number): string {
  const bytes = Buffer.from(s, "utf8");
  if (bytes.length < length) return s;
  if (length < 0) throw new Error(`runtime error: slice bounds out of range [:${length}]`);
  return bytes.subarray(0, length).toString("utf8");
}

function pad(s: string, prefix: number, suffix: number): string {
  if (s === "") return s;
  if (prefix < 0 || suffix < 0) throw new Error("strings: negative Repeat count");
  return " ".repeat(prefix) + s + " ".repeat(suffix);
}

const S = STRING;

/** docker's basicFunctions. */
export const DOCKER_FUNCS: FuncMap = {
  json: goFunc(funcOf([ANY], [S]), templateJson),
  split: goFunc(funcOf([S, S], [sliceOf(S)]), split),
  join: goFunc(funcOf([sliceOf(S), S], [S]), (list: string[] | null, sep: string) => (list ?? []).join(sep)),
  title: goFunc(funcOf([S], [S]), goTitle),
  lower: goFunc(funcOf([S], [S]), goToLower),
  upper: goFunc(funcOf([S], [S]), goToUpper),
  pad: goFunc(funcOf([S, INT, INT], [S]), pad),
  truncate: goFunc(funcOf([S, INT], [S]), truncate),
};

/** A header stand-in: the column name, unchanged (a function of its own each, as goFunc keys by function). */
const same = (params: GoType[]) => goFunc(funcOf(params, [STRING]), (v: string) => v);

/** docker's HeaderFunctions: a table's header row keeps each column's name (pad is not replaced). */
export const HEADER_FUNCS: FuncMap = {
  json: same([S]),
  split: same([S, S]),
  join: same([S, S]),
  title: same([S]),
  lower: same([S]),
  upper: same([S]),
  truncate: same([S, INT]),
};

/** templates.Parse / templates.NewParse: a template with docker's functions. */
export function parseDockerTemplate(format: string, name = ""): Template {
  return Template.new(name).funcs(DOCKER_FUNCS).parse(format);
}
