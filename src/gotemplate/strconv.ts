/**
 * The parts of Go's strconv that templates need: number literals as Go parses them (base prefixes,
 * underscores, hex floats), quoted string and character literals, quoting for %q, and
 * FormatFloat's shortest and fixed-precision forms.
 */

export class StrconvError extends Error {
  override readonly name = "StrconvError";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv's rule for underscores: only between digits (a base prefix counts as a digit). */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && /[bBoOxX]/.test(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** strconv.ParseUint(s, 0, 64); undefined where Go reports an error. */
export function parseUint(s: string): bigint | undefined {
  if (s === "" || s[0] === "+" || s[0] === "-") return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === "0" && s.length > 1) {
    const p = s[1]!.toLowerCase();
    if (p === "x") [base, digits] = [16, s.slice(2)];
    else if (p === "o") [base, digits] = [8, s.slice(2)];
    else if (p === "b") [base, digits] = [2, s.slice(2)];
    else [base, digits] = [8, s.slice(1)];
  }
  if (s.includes("_") && !underscoreOK(s)) return undefined;
  digits = digits.replace(/_/g, "");
  if (digits === "") return undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[
    base as 2 | 8 | 10 | 16
  ];
  if (!valid.test(digits)) return undefined;
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "";
  const n = BigInt(prefix + digits);
  return n > UINT64_MAX ? undefined : n;
}

/** strconv.ParseInt(s, 0, 64). */
export function parseInt64(s: string): bigint | undefined {
  let neg = false;
  let body = s;
  if (s.startsWith("+") || s.startsWith("-")) {
    neg = s[0] === "-";
    body = s.slice(1);
  }
  const u = parseUint(body);
  if (u === undefined) return undefined;
  const n = neg ? -u : u;
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** strconv.ParseFloat(s, 64): decimal and hexadecimal (0x1.8p3) forms, with underscores. */
export function parseFloat64(s: string): number | undefined {
  if (s.includes("_") && !underscoreOK(s)) return undefined;
  const clean = s.replace(/_/g, "");
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(clean);
  if (m) {
    const [, sign, intPart = "", frac = "", exp] = m;
    if (intPart === "" && frac === "") return undefined;
    const mant = BigInt(`0x${intPart || "0"}${frac}`);
    const value = Number(mant) * 2 ** (Number(exp) - 4 * frac.length);
    return sign === "-" ? -value : value;
  }
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(clean)) return Number(clean);
  if (/^[+-]?(?:inf|infinity)$/i.test(clean)) return clean.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(clean)) return Number.NaN;
  return undefined;
}

/** The int64 range check of a float that is integral: Go's IsInt on a float literal. */
export function floatIsInt64(f: number): boolean {
  return Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63;
}

export function floatIsUint64(f: number): boolean {
  return Number.isInteger(f) && f >= 0 && f < 2 ** 64;
}

export { INT64_MAX, INT64_MIN, UINT64_MAX };

// ---------------------------------------------------------------------------------------------
// Quoted literals

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};

/**
 * strconv.UnquoteChar: the first character of s (after the opening quote) decoded, and what
 * follows it. `quote` is the literal's quote character, which must be escaped inside it.
 */
export function unquoteChar(s: string, quote: string): { value: string; tail: string } {
  const c = s.codePointAt(0);
  if (c === undefined) throw new StrconvError("invalid syntax");
  const ch = String.fromCodePoint(c);
  if (ch === quote && (quote === "'" || quote === '"')) throw new StrconvError("invalid syntax");
  if (ch !== "\\") return { value: ch, tail: s.slice(ch.length) };
  const e = s[1];
  if (e === undefined) throw new StrconvError("invalid syntax");
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) return { value: simple, tail: s.slice(2) };
  if (e === "'" || e === '"') {
    if (e !== quote) throw new StrconvError("invalid syntax");
    return { value: e, tail: s.slice(2) };
  }
  if (e === "x" || e === "u" || e === "U") {
    const n = e === "x" ? 2 : e === "u" ? 4 : 8;
    const hex = s.slice(2, 2 + n);
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw new StrconvError("invalid syntax");
    const v = Number.parseInt(hex, 16);
    if (e === "x") return { value: String.fromCharCode(v), tail: s.slice(2 + n) };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new StrconvError("invalid syntax");
    return { value: String.fromCodePoint(v), tail: s.slice(2 + n) };
  }
  if (e >= "0" && e <= "7") {
    const oct = s.slice(1, 4);
    if (!/^[0-7]{3}$/.test(oct)) throw new StrconvError("invalid syntax");
    const v = Number.parseInt(oct, 8);
    if (v > 255) throw new StrconvError("invalid syntax");
    return { value: String.fromCharCode(v), tail: s.slice(4) };
  }
  throw new StrconvError("invalid syntax");
}

/** strconv.Unquote for "…" and `…` literals. */
export function unquote(s: string): string {
  const q = s[0];
  if (s.length < 2 || s[s.length - 1] !== q) throw new StrconvError("invalid syntax");
  const body = s.slice(1, -1);
  if (q === "`") {
    if (body.includes("`")) throw new StrconvError("invalid syntax");
    return body.replace(/\r/g, "");
  }
  if (q !== '"' && q !== "'") throw new StrconvError("invalid syntax");
  if (body.includes("\n")) throw new StrconvError("invalid syntax");
  let out = "";
  let rest = body;
  while (rest.length > 0) {
    const { value, tail } = unquoteChar(rest, q);
    out += value;
    rest = tail;
  }
  if (q === "'" && [...out].length !== 1) throw new StrconvError("invalid syntax");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Quoting

const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(ch: string): boolean {
  return ch === " " || PRINT.test(ch);
}

function escapeRune(ch: string, quote: string, asciiOnly: boolean): string {
  const c = ch.codePointAt(0)!;
  if (ch === quote || ch === "\\") return `\\${ch}`;
  if (asciiOnly ? c < 0x80 && isPrint(ch) : isPrint(ch)) return ch;
  switch (ch) {
    case "\x07":
      return "\\a";
    case "\b":
      return "\\b";
    case "\f":
      return "\\f";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case "\v":
      return "\\v";
  }
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, "0")}`;
  if (c >= 0xd800 && c <= 0xdfff) return "\\ufffd";
  if (c < 0x10000) return `\\u${c.toString(16).padStart(4, "0")}`;
  return `\\U${c.toString(16).padStart(8, "0")}`;
}

/** strconv.Quote, or QuoteToASCII with `asciiOnly`. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch, '"', asciiOnly);
  return `${out}"`;
}

/** strconv.QuoteRune, or QuoteRuneToASCII. */
export function quoteRune(r: number, asciiOnly = false): string {
  const ch = r > 0x10ffff || r < 0 || (r >= 0xd800 && r <= 0xdfff) ? "\ufffd" : String.fromCodePoint(r);
  return `'${escapeRune(ch, "'", asciiOnly)}'`;
}

/** strconv.CanBackquote: a raw string literal can hold s. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "`" || c === 0xfeff) return false;
    if ((c < 0x20 && ch !== "\t") || c === 0x7f) return false;
  }
  return true;
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
  return { d: mant.replace(".", "").replace(/0+$/, ""), dp: Number(exp) + 1 };
}

function exactDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mant, exp] = x.toExponential(100).split("e") as [string, string];
  return { d: mant.replace(".", "").replace(/0+$/, ""), dp: Number(exp) + 1 };
}

/** Rounds to `n` significant digits, half to even on an exact half, as strconv does. */
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
  const prev = digs.d.charCodeAt(n - 1) - 48;
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

/** %x of a float: hexadecimal mantissa and binary exponent, as strconv's 'x' format. */
function fmtX(x: number, prec: number, upper: boolean): string {
  let mant: bigint;
  let exp: number;
  if (x === 0) {
    mant = 0n;
    exp = 0;
  } else {
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, x);
    const bits = buf.getBigUint64(0);
    const e = Number((bits >> 52n) & 0x7ffn);
    let m = bits & ((1n << 52n) - 1n);
    if (e === 0) {
      exp = -1074;
      while (m < 1n << 52n) {
        m <<= 1n;
        exp--;
      }
      exp += 52;
    } else {
      m |= 1n << 52n;
      exp = e - 1023;
    }
    mant = m; // 1.xxx with 52 fraction bits
  }
  // Round to prec hex digits after the point (prec < 0: as many as needed).
  let frac = mant & ((1n << 52n) - 1n);
  let lead = mant >> 52n;
  let digits = frac.toString(16).padStart(13, "0");
  if (prec >= 0 && prec < 13) {
    const shift = BigInt((13 - prec) * 4);
    const half = 1n << (shift - 1n);
    const rem = frac & ((1n << shift) - 1n);
    frac >>= shift;
    if (rem > half || (rem === half && (frac & 1n) === 1n)) {
      frac += 1n;
      if (frac >> BigInt(prec * 4) !== 0n) {
        frac = 0n;
        lead += 1n;
        if (lead === 2n) {
          lead = 1n;
          exp++;
        }
      }
    }
    digits = prec === 0 ? "" : frac.toString(16).padStart(prec, "0");
  } else if (prec < 0) digits = digits.replace(/0+$/, "");
  else digits = digits.padEnd(prec, "0");
  if (x === 0) lead = 0n;
  const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  let s = `0x${lead}${digits ? `.${digits}` : ""}p${e}`;
  if (upper) s = s.toUpperCase();
  return s;
}

export type FloatFormat = "e" | "E" | "f" | "F" | "g" | "G" | "x" | "X";

/** strconv.FormatFloat(x, fmt, prec, 64); prec -1 means the shortest exact representation. */
export function formatFloat(x: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const sign = neg ? "-" : "";
  if (fmt === "x" || fmt === "X") return sign + fmtX(abs, prec, fmt === "X");
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

/** FormatFloat's 'b' format: mantissa and binary exponent ("4503599627370496p-52" for 1.0). */
export function formatFloatB(x: number, size: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const buf = new DataView(new ArrayBuffer(8));
  let mant: bigint;
  let exp: number;
  let neg: boolean;
  if (size === 32) {
    buf.setFloat32(0, x);
    const bits = buf.getUint32(0);
    neg = bits >>> 31 === 1;
    const e = (bits >>> 23) & 0xff;
    mant = BigInt(bits & 0x7fffff);
    if (e === 0) exp = -149;
    else {
      mant |= 1n << 23n;
      exp = e - 150;
    }
  } else {
    buf.setFloat64(0, x);
    const bits = buf.getBigUint64(0);
    neg = bits >> 63n === 1n;
    const e = Number((bits >> 52n) & 0x7ffn);
    mant = bits & ((1n << 52n) - 1n);
    if (e === 0) exp = -1074;
    else {
      mant |= 1n << 52n;
      exp = e - 1075;
    }
  }
  return `${neg ? "-" : ""}${mant}p${exp < 0 ? "-" : "+"}${Math.abs(exp)}`;
}
