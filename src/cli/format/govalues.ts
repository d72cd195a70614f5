/**
 * Go's view of JavaScript values, for printing them the way the docker CLI's templates do:
 * fmt's %v and Printf verbs, encoding/json, and strconv's float formatting.
 *
 * JavaScript has one object type where Go has several, so the kinds are told apart like this:
 * - arrays are slices;
 * - `Map`s and plain objects are maps (keys sorted when printed or encoded, a missing key is
 *   "no value");
 * - class instances and objects passed through {@link goStruct} are structs (fields in
 *   declaration order, a missing field is an error);
 * - `Date` is time.Time; `null` is a nil pointer; `undefined` is the invalid "no value";
 *   integral numbers print as Go ints, others as float64.
 */

const structs = new WeakSet<object>();
const contexts = new WeakSet<object>();

/** Marks an object as a Go struct: fields keep their order, and a missing one is an error. */
export function goStruct<T extends object>(value: T): T {
  structs.add(value);
  return value;
}

/**
 * Marks a row as one of the docker formatter's contexts: fields are looked up as on a struct,
 * and `{{json .}}` encodes it as formatter.MarshalJSON does (a map of its fields, so sorted
 * keys, through json.Marshal, so <, > and & escaped).
 */
export function formatterContext<T extends object>(value: T): T {
  contexts.add(value);
  return value;
}

export function isFormatterContext(v: unknown): boolean {
  return typeof v === "object" && v !== null && contexts.has(v);
}

export type GoKind =
  | "invalid"
  | "nil"
  | "bool"
  | "int"
  | "float"
  | "string"
  | "slice"
  | "map"
  | "struct"
  | "time";

export function goKind(v: unknown): GoKind {
  if (v === undefined) return "invalid";
  if (v === null) return "nil";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
    case "string":
      return "string";
    case "function":
      return "struct";
    case "object":
      if (Array.isArray(v) || ArrayBuffer.isView(v)) return "slice";
      if (v instanceof Date) return "time";
      if (v instanceof Map) return "map";
      if (structs.has(v) || contexts.has(v)) return "struct";
      return isPlainObject(v) ? "map" : "struct";
    default:
      return "string";
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/** Go's name for a value's type, as it appears in template and fmt error messages. */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case "invalid":
      return "<nil>";
    case "nil":
      return "<nil>";
    case "bool":
      return "bool";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "string":
      return "string";
    case "slice":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? "[]string" : "[]interface {}";
    case "map":
      return "map[string]interface {}";
    case "time":
      return "time.Time";
    case "struct": {
      const name = (v as object).constructor?.name;
      return name && name !== "Object" ? `*${name}` : "struct";
    }
  }
}

/** Go sorts string keys bytewise; for UTF-8 that is code point order, not UTF-16 order. */
export function compareGoStrings(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** A map's entries in Go's printing order (sorted keys). */
export function mapEntries(v: object): [string, unknown][] {
  const entries: [string, unknown][] =
    v instanceof Map
      ? [...v.entries()].map(([k, x]) => [String(k), x])
      : Object.entries(v).filter(([, x]) => x !== undefined);
  return entries.sort(([a], [b]) => compareGoStrings(a, b));
}

/** A struct's fields in declaration order: own properties, then getters of its class. */
export function structFields(v: object): [string, unknown][] {
  const fields: [string, unknown][] = Object.entries(v).filter(([, x]) => x !== undefined);
  const seen = new Set(fields.map(([k]) => k));
  for (let proto = Object.getPrototypeOf(v); proto && proto !== Object.prototype; ) {
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (desc.get && !seen.has(name) && /^[A-Z]/.test(name)) {
        seen.add(name);
        fields.push([name, (v as Record<string, unknown>)[name]]);
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
  return fields;
}

/** Looks a name up on a struct or map; `found` is false when Go would not find it. */
export function lookup(v: object, name: string): { found: boolean; value: unknown } {
  if (v instanceof Map) return { found: v.has(name), value: v.get(name) };
  if (Object.hasOwn(v, name)) return { found: true, value: (v as Record<string, unknown>)[name] };
  for (let proto = Object.getPrototypeOf(v); proto && proto !== Object.prototype; ) {
    if (Object.hasOwn(proto, name) && name !== "constructor") {
      return { found: true, value: (v as Record<string, unknown>)[name] };
    }
    proto = Object.getPrototypeOf(proto);
  }
  return { found: false, value: undefined };
}

// ---------------------------------------------------------------------------------------------
// Floats, as strconv.FormatFloat writes them

interface Digits {
  /** Significant digits without leading or trailing zeros ("" for zero). */
  d: string;
  /** Position of the decimal point: the value is 0.d × 10^dp. */
  dp: number;
}

function shortestDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mant, exp] = x.toExponential().split("e") as [string, string];
  const d = mant.replace(".", "").replace(/0+$/, "");
  return { d, dp: Number(exp) + 1 };
}

function exactDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mant, exp] = x.toExponential(100).split("e") as [string, string];
  return { d: mant.replace(".", "").replace(/0+$/, ""), dp: Number(exp) + 1 };
}

/** Rounds to `n` significant digits, ties to even, as strconv does for exact halves. */
function roundTo(digs: Digits, n: number): Digits {
  if (n < 0) return { d: "", dp: digs.dp };
  if (digs.d.length <= n) return digs;
  if (n === 0) {
    const first = digs.d.charCodeAt(0) - 48;
    const up = first > 5 || (first === 5 && /[1-9]/.test(digs.d.slice(1)));
    return up ? { d: "1", dp: digs.dp + 1 } : { d: "", dp: digs.dp };
  }
  const next = digs.d.charCodeAt(n) - 48;
  const rest = digs.d.slice(n + 1);
  const prev = n > 0 ? digs.d.charCodeAt(n - 1) - 48 : 0;
  const up = next > 5 || (next === 5 && (/[1-9]/.test(rest) || prev % 2 === 1));
  let d = digs.d.slice(0, n);
  let dp = digs.dp;
  if (up) {
    const chars = d.split("");
    let i = chars.length - 1;
    while (i >= 0 && chars[i] === "9") chars[i--] = "0";
    if (i < 0) {
      chars.unshift("1");
      chars.pop();
      dp++;
    } else chars[i] = String(Number(chars[i]) + 1);
    d = chars.join("");
  }
  return { d: d.replace(/0+$/, ""), dp };
}

function fmtE(digs: Digits, prec: number, e: string): string {
  let out = digs.d[0] ?? "0";
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) out += digs.d[i] ?? "0";
  }
  const exp = digs.d.length === 0 ? 0 : digs.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${e}${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
}

function fmtF(digs: Digits, prec: number): string {
  let out = "";
  if (digs.dp > 0) {
    for (let i = 0; i < digs.dp; i++) out += digs.d[i] ?? "0";
  } else out = "0";
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) {
      const j = digs.dp + i - 1;
      out += j >= 0 && j < digs.d.length ? digs.d[j] : "0";
    }
  }
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64); prec -1 means the shortest exact representation. */
export function formatFloat(x: number, fmt: "e" | "E" | "f" | "F" | "g" | "G", prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const sign = neg ? "-" : "";
  const shortest = prec < 0;
  let digs: Digits;
  const lower = fmt.toLowerCase();
  if (shortest) {
    digs = shortestDigits(abs);
    prec =
      lower === "e"
        ? Math.max(digs.d.length - 1, 0)
        : lower === "f"
          ? Math.max(digs.d.length - digs.dp, 0)
          : digs.d.length;
  } else {
    const exact = exactDigits(abs);
    if (lower === "e") digs = roundTo(exact, prec + 1);
    else if (lower === "f") digs = roundTo(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      digs = roundTo(exact, prec);
    }
  }
  const e = fmt === "E" || fmt === "G" ? "E" : "e";
  if (lower === "e") return sign + fmtE(digs, prec, e);
  if (lower === "f") return sign + fmtF(digs, prec);
  let eprec = prec;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (digs.d.length > 0 && (exp < -4 || exp >= eprec)) {
    return sign + fmtE(digs, Math.min(prec, digs.d.length) - 1, e);
  }
  if (prec > digs.dp) prec = digs.d.length;
  return sign + fmtF(digs, Math.max(prec - digs.dp, 0));
}

// ---------------------------------------------------------------------------------------------
// fmt's %v

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** time.Time's String(), in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeString(t: Date): string {
  const ms = t.getUTCMilliseconds();
  const frac = ms ? `.${pad2(ms, 3).replace(/0+$/, "")}` : "";
  return (
    `${pad2(t.getUTCFullYear(), 4)}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())} ` +
    `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}${frac} +0000 UTC`
  );
}

/** time.Time as encoding/json writes it: RFC 3339 with only the fractional digits needed. */
function goTimeJson(t: Date): string {
  return t
    .toISOString()
    .replace(/\.?0+Z$/, "Z")
    .replace(/\.Z$/, "Z");
}

/** How fmt prints a value with %v (nil as "<nil>"; templates print a top-level undefined as "<no value>"). */
export function goString(v: unknown): string {
  switch (goKind(v)) {
    case "invalid":
    case "nil":
      return "<nil>";
    case "bool":
    case "int":
    case "string":
      return String(v);
    case "float":
      return formatFloat(v as number, "g", -1);
    case "time":
      return goTimeString(v as Date);
    case "slice":
      return `[${Array.from(v as ArrayLike<unknown>, goString).join(" ")}]`;
    case "map":
      return `map[${mapEntries(v as object)
        .map(([k, x]) => `${k}:${goString(x)}`)
        .join(" ")}]`;
    case "struct":
      if (typeof v === "function") return "<func>";
      return `{${structFields(v as object)
        .map(([, x]) => goString(x))
        .join(" ")}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// encoding/json

export interface GoJsonOptions {
  /** json.Marshal escapes <, > and & for HTML; docker's template `json` function turns that off. */
  escapeHtml?: boolean;
}

/** Raised for values encoding/json refuses (NaN, infinities, cycles). */
export class GoJsonError extends Error {
  override readonly name = "GoJsonError";
}

function jsonString(s: string, escapeHtml: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c < 0x20) {
      out +=
        ch === "\n"
          ? "\\n"
          : ch === "\r"
            ? "\\r"
            : ch === "\t"
              ? "\\t"
              : ch === "\b"
                ? "\\b"
                : ch === "\f"
                  ? "\\f"
                  : `\\u00${c.toString(16).padStart(2, "0")}`;
    } else if (escapeHtml && (ch === "<" || ch === ">" || ch === "&")) {
      out += `\\u00${c.toString(16)}`;
    } else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return `${out}"`;
}

function jsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new GoJsonError(`json: unsupported value: ${formatFloat(n, "g", -1)}`);
  return Object.is(n, -0) ? "-0" : String(n);
}

/** A value as Go's encoding/json writes it: compact, map keys sorted, struct fields in order. */
export function goJson(value: unknown, options: GoJsonOptions = {}): string {
  const escapeHtml = options.escapeHtml ?? true;
  const seen = new Set<object>();
  const encode = (v: unknown, html: boolean): string => {
    if (v === undefined || v === null) return "null";
    switch (typeof v) {
      case "string":
        return jsonString(v, html);
      case "number":
        return jsonNumber(v);
      case "bigint":
        return v.toString();
      case "boolean":
        return String(v);
      case "function":
      case "symbol":
        throw new GoJsonError(`json: unsupported type: ${typeof v}`);
    }
    const obj = v as object;
    if (obj instanceof Date) return `"${goTimeJson(obj)}"`;
    if (seen.has(obj)) throw new GoJsonError("json: unsupported value: encountered a cycle");
    seen.add(obj);
    try {
      // A formatter context marshals itself through json.Marshal, which escapes HTML whatever
      // the surrounding encoder says.
      if (contexts.has(obj)) {
        const entries = structFields(obj).sort(([a], [b]) => compareGoStrings(a, b));
        return `{${entries.map(([k, x]) => `${jsonString(k, true)}:${encode(x, true)}`).join(",")}}`;
      }
      if (!structs.has(obj) && typeof (obj as { toJSON?: unknown }).toJSON === "function") {
        return encode((obj as { toJSON(): unknown }).toJSON(), html);
      }
      if (Array.isArray(obj) || ArrayBuffer.isView(obj)) {
        return `[${Array.from(obj as ArrayLike<unknown>, (x) => encode(x, html)).join(",")}]`;
      }
      const entries = goKind(obj) === "map" ? mapEntries(obj) : structFields(obj);
      return `{${entries.map(([k, x]) => `${jsonString(k, html)}:${encode(x, html)}`).join(",")}}`;
    } finally {
      seen.delete(obj);
    }
  };
  return encode(value, escapeHtml);
}

// ---------------------------------------------------------------------------------------------
// fmt.Sprintf

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

function badVerb(verb: string, arg: unknown): string {
  if (arg === undefined || arg === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(arg)}=${goString(arg)})`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  sharp: boolean;
  width?: number;
  prec?: number;
}

function padTo(s: string, spec: Spec, numeric: boolean): string {
  const w = spec.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (spec.minus) return s + " ".repeat(w - len);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(w - len) + s.slice(sign.length);
  }
  return " ".repeat(w - len) + s;
}

function signed(s: string, n: number, spec: Spec): string {
  if (n >= 0 && !s.startsWith("-")) {
    if (spec.plus) return `+${s}`;
    if (spec.space) return ` ${s}`;
  }
  return s;
}

function formatOne(verb: string, arg: unknown, spec: Spec): string {
  const kind = goKind(arg);
  switch (verb) {
    case "v":
      return padTo(goString(arg), spec, false);
    case "s": {
      if (kind === "int" || kind === "float" || kind === "bool" || kind === "nil" || kind === "invalid") {
        return badVerb(verb, arg);
      }
      let s = goString(arg);
      if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join("");
      return padTo(s, spec, false);
    }
    case "q":
      if (kind === "string") return padTo(goQuote(arg as string), spec, false);
      if (kind === "int") return padTo(`'${String.fromCodePoint(Number(arg))}'`, spec, false);
      return badVerb(verb, arg);
    case "t":
      return kind === "bool" ? padTo(String(arg), spec, false) : badVerb(verb, arg);
    case "d":
    case "b":
    case "o":
    case "x":
    case "X":
    case "c":
    case "U": {
      if (kind === "string" && (verb === "x" || verb === "X")) {
        const hex = Buffer.from(arg as string, "utf8").toString("hex");
        return padTo(verb === "X" ? hex.toUpperCase() : hex, spec, false);
      }
      if (kind !== "int") return badVerb(verb, arg);
      const n = Number(arg);
      if (verb === "c") return padTo(String.fromCodePoint(n), spec, false);
      if (verb === "U") return padTo(`U+${n.toString(16).toUpperCase().padStart(4, "0")}`, spec, false);
      const radix = verb === "d" ? 10 : verb === "b" ? 2 : verb === "o" ? 8 : 16;
      let s = Math.abs(n).toString(radix);
      if (verb === "X") s = s.toUpperCase();
      if (spec.prec !== undefined) s = s.padStart(spec.prec, "0");
      if (spec.sharp && verb === "x") s = `0x${s}`;
      if (spec.sharp && verb === "X") s = `0X${s}`;
      if (spec.sharp && verb === "o") s = `0${s}`;
      return padTo(signed(n < 0 ? `-${s}` : s, n, spec), spec, true);
    }
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G": {
      if (kind !== "int" && kind !== "float") return badVerb(verb, arg);
      const n = Number(arg);
      const prec = spec.prec ?? (verb === "g" || verb === "G" ? -1 : 6);
      return padTo(signed(formatFloat(n, verb as "e", prec), n, spec), spec, true);
    }
    default:
      return badVerb(verb, arg);
  }
}

/** fmt.Sprintf for the verbs templates use: %v %s %q %d %x %X %o %b %c %U %t %e %f %g and %%. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, zero: false, space: false, sharp: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "-") spec.minus = true;
      else if (c === "+") spec.plus = true;
      else if (c === "0") spec.zero = !spec.minus;
      else if (c === " ") spec.space = true;
      else if (c === "#") spec.sharp = true;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const a = args[argi++];
        return typeof a === "number" ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (format[i] === ".") {
      i++;
      spec.prec = num() ?? 0;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0x25);
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argi++], spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => (a === undefined || a === null ? "<nil>" : `${goTypeName(a)}=${goString(a)}`))
      .join(", ")})`;
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function goSprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goString(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
export function goSprintln(args: readonly unknown[]): string {
  return `${args.map(goString).join(" ")}\n`;
}
