/**
 * Go's fmt printer over {@link Value}s: Sprint, Sprintln and Sprintf with the verbs, flags,
 * widths, precisions and argument indexes of Go's fmt, the %v forms of every kind (map[k:v] with
 * sorted keys, [a b], {a b}, &{...}, <nil>), String and Error methods, and fmt's in-band error
 * notes (%!d(string=x), %!v(MISSING), %!(EXTRA ...)).
 *
 * JavaScript keeps no addresses, so where Go prints a pointer's address this prints an address
 * made up per object (0xc000010000, 0xc000010010, ...): stable within a process, meaningless.
 */
import {
  canBackquote,
  type FloatFormat,
  formatFloat,
  formatFloatB,
  isPrint,
  quote,
  quoteRune,
} from "./strconv.js";
import {
  FLOAT32,
  isComplexKind,
  isFloatKind,
  isIntKind,
  isUintKind,
  methodOf,
  sliceOf,
  UINT8,
} from "./types.js";
import {
  type Complex,
  elem,
  indexValue,
  indirectInterface,
  lengthOf,
  mapEntries,
  Ref,
  SliceHeader,
  structFields,
  utf8,
  Value,
} from "./values.js";

const addresses = new WeakMap<object, bigint>();
let nextAddress = 0xc000010000n;

function addressOf(raw: unknown): bigint {
  if (raw === null || raw === undefined || (typeof raw !== "object" && typeof raw !== "function")) return 0n;
  let a = addresses.get(raw);
  if (a === undefined) {
    a = nextAddress;
    nextAddress += 0x10n;
    addresses.set(raw, a);
  }
  return a;
}

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  };
}

const BYTES = sliceOf(UINT8);
const LDIGITS = "0123456789abcdefx";
const UDIGITS = "0123456789ABCDEFX";

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A value's integer as a bigint (two's complement is not needed: JavaScript keeps the sign). */
function bigOf(raw: unknown): bigint {
  if (typeof raw === "bigint") return raw;
  if (typeof raw === "number") return BigInt(Math.trunc(raw));
  return 0n;
}

class Printer {
  buf = "";
  f: Flags = clearFlags();
  /** The argument being printed (printArg), or the value inside it (printValue), for error notes. */
  private arg: Value = Value.INVALID;
  private value: Value = Value.INVALID;
  private erroring = false;

  // ---- padding

  private writePadding(n: number): void {
    if (n <= 0) return;
    this.buf += (this.f.zero ? "0" : " ").repeat(n);
  }

  private pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  private truncate(s: string): string {
    if (this.f.precPresent) {
      const runes = [...s];
      if (runes.length > this.f.prec) return runes.slice(0, this.f.prec).join("");
    }
    return s;
  }

  // ---- basic kinds

  private fmtBoolean(v: boolean, verb: string): void {
    if (verb === "t" || verb === "v") this.pad(v ? "true" : "false");
    else this.badVerb(verb);
  }

  private fmtIntegerDigits(u: bigint, base: number, verb: string, digits: string): void {
    const negative = u < 0n;
    if (negative) u = -u;
    let prec = 0;
    if (this.f.precPresent) {
      prec = this.f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.f.zero;
        this.f.zero = false;
        this.writePadding(this.f.wid);
        this.f.zero = oldZero;
        return;
      }
    } else if (this.f.zero && this.f.widPresent) {
      prec = this.f.wid;
      if (negative || this.f.plus || this.f.space) prec--;
    }
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = "0".repeat(prec - s.length) + s;
    if (this.f.sharp) {
      if (base === 2) s = `0b${s}`;
      else if (base === 8) {
        if (s[0] !== "0") s = `0${s}`;
      } else if (base === 16) s = `0${digits[16]}${s}`;
    }
    if (verb === "O") s = `0o${s}`;
    if (negative) s = `-${s}`;
    else if (this.f.plus) s = `+${s}`;
    else if (this.f.space) s = ` ${s}`;
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  private fmt0x64(v: bigint, leading0x: boolean): void {
    const sharp = this.f.sharp;
    this.f.sharp = leading0x;
    this.fmtIntegerDigits(v, 16, "v", LDIGITS);
    this.f.sharp = sharp;
  }

  private fmtC(c: bigint): void {
    const r = c < 0n || c > 0x10ffffn || (c >= 0xd800n && c <= 0xdfffn) ? 0xfffd : Number(c);
    this.pad(String.fromCodePoint(r));
  }

  private fmtQc(c: bigint): void {
    const r = c < 0n || c > 0x10ffffn ? 0xfffd : Number(c);
    const ch = r >= 0xd800 && r <= 0xdfff ? "\ufffd" : String.fromCodePoint(r);
    if (this.f.sharp && isPrint(ch)) this.pad(`'${ch}'`);
    else this.pad(quoteRune(r, this.f.plus));
  }

  private fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    let s = (u < 0n ? u + 2n ** 64n : u).toString(16).toUpperCase();
    if (s.length < prec) s = "0".repeat(prec - s.length) + s;
    s = `U+${s}`;
    if (this.f.sharp && u >= 0n && u <= 0x10ffffn && isPrint(String.fromCodePoint(Number(u)))) {
      s += ` '${String.fromCodePoint(Number(u))}'`;
    }
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  private fmtInteger(v: bigint, signed: boolean, verb: string): void {
    switch (verb) {
      case "v":
        if (this.f.sharpV && !signed) this.fmt0x64(v, true);
        else this.fmtIntegerDigits(v, 10, verb, LDIGITS);
        return;
      case "d":
        this.fmtIntegerDigits(v, 10, verb, LDIGITS);
        return;
      case "b":
        this.fmtIntegerDigits(v, 2, verb, LDIGITS);
        return;
      case "o":
      case "O":
        this.fmtIntegerDigits(v, 8, verb, LDIGITS);
        return;
      case "x":
        this.fmtIntegerDigits(v, 16, verb, LDIGITS);
        return;
      case "X":
        this.fmtIntegerDigits(v, 16, verb, UDIGITS);
        return;
      case "c":
        this.fmtC(v);
        return;
      case "q":
        this.fmtQc(v);
        return;
      case "U":
        this.fmtUnicode(v);
        return;
      default:
        this.badVerb(verb);
    }
  }

  private fmtFloatNum(v: number, size: number, verb: string, prec: number): void {
    if (this.f.precPresent) prec = this.f.prec;
    let num: string;
    if (verb === "b") num = formatFloatB(v, size);
    else if (
      size === 32 &&
      prec < 0 &&
      (verb === "g" || verb === "G" || verb === "e" || verb === "E" || verb === "f")
    ) {
      num = formatFloat32Shortest(v, verb as FloatFormat);
    } else num = formatFloat(v, verb as FloatFormat, prec);
    if (num[0] !== "-" && num[0] !== "+") num = `+${num}`;
    if (this.f.space && num[0] === "+" && !this.f.plus) num = ` ${num.slice(1)}`;
    if (num[1] === "I" || num[1] === "N") {
      const oldZero = this.f.zero;
      this.f.zero = false;
      if (num[1] === "N" && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = oldZero;
      return;
    }
    if (this.f.sharp && verb !== "b") {
      let digits = 0;
      if (verb === "v" || verb === "g" || verb === "G" || verb === "x") {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = "";
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < num.length; i++) {
        const c = num[i]!;
        if (c === ".") {
          hasDecimalPoint = true;
          continue;
        }
        if (c === "p" || c === "P" || ((c === "e" || c === "E") && verb !== "x" && verb !== "X")) {
          tail = num.slice(i);
          num = num.slice(0, i);
          break;
        }
        if (c !== "0") sawNonzeroDigit = true;
        if (sawNonzeroDigit) digits--;
      }
      if (!hasDecimalPoint) {
        if (num.length === 2 && num[1] === "0") digits--;
        num += ".";
      }
      while (digits > 0) {
        num += "0";
        digits--;
      }
      num += tail;
    }
    if (this.f.plus || num[0] !== "+") {
      if (this.f.zero && this.f.widPresent && this.f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  private fmtFloat(v: number, size: number, verb: string): void {
    switch (verb) {
      case "v":
        this.fmtFloatNum(v, size, "g", -1);
        return;
      case "b":
      case "g":
      case "G":
      case "x":
      case "X":
        this.fmtFloatNum(v, size, this.f.sharpV ? "g" : verb, -1);
        return;
      case "f":
      case "e":
      case "E":
      case "F":
        this.fmtFloatNum(v, size, verb === "F" ? "f" : verb, 6);
        return;
      default:
        this.badVerb(verb);
    }
  }

  private fmtComplex(v: Complex, size: number, verb: string): void {
    if (!"vbgGxXfFeE".includes(verb)) {
      this.badVerb(verb);
      return;
    }
    const oldPlus = this.f.plus;
    this.buf += "(";
    this.fmtFloat(v.re, size / 2, verb);
    this.f.plus = true;
    this.fmtFloat(v.im, size / 2, verb);
    this.buf += "i)";
    this.f.plus = oldPlus;
  }

  private fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) this.pad(`\`${s}\``);
    else this.pad(quote(s, this.f.plus));
  }

  private fmtSbx(bytes: Uint8Array, digits: string): void {
    let length = bytes.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.f.space) {
        if (this.f.sharp) width *= 2;
        width += length - 1;
      } else if (this.f.sharp) width += 2;
    } else {
      if (this.f.widPresent) this.writePadding(this.f.wid);
      return;
    }
    if (this.f.widPresent && this.f.wid > width && !this.f.minus) this.writePadding(this.f.wid - width);
    let out = "";
    if (this.f.sharp) out += `0${digits[16]}`;
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) {
        out += " ";
        if (this.f.sharp) out += `0${digits[16]}`;
      }
      const c = bytes[i]!;
      out += digits[c >> 4]! + digits[c & 0xf]!;
    }
    this.buf += out;
    if (this.f.widPresent && this.f.wid > width && this.f.minus) this.writePadding(this.f.wid - width);
  }

  private fmtString(s: string, verb: string): void {
    switch (verb) {
      case "v":
        if (this.f.sharpV) this.fmtQ(s);
        else this.pad(this.truncate(s));
        return;
      case "s":
        this.pad(this.truncate(s));
        return;
      case "x":
        this.fmtSbx(utf8(s), LDIGITS);
        return;
      case "X":
        this.fmtSbx(utf8(s), UDIGITS);
        return;
      case "q":
        this.fmtQ(s);
        return;
      default:
        this.badVerb(verb);
    }
  }

  private fmtBytes(bytes: Uint8Array, verb: string, typeString: string, value: Value): void {
    const isNil = value.isNil();
    switch (verb) {
      case "v":
      case "d":
        if (this.f.sharpV) {
          this.buf += typeString;
          if (isNil) {
            this.buf += "(nil)";
            return;
          }
          this.buf += "{";
          bytes.forEach((c, i) => {
            if (i > 0) this.buf += ", ";
            this.fmt0x64(BigInt(c), true);
          });
          this.buf += "}";
        } else {
          this.buf += "[";
          bytes.forEach((c, i) => {
            if (i > 0) this.buf += " ";
            this.fmtIntegerDigits(BigInt(c), 10, verb, LDIGITS);
          });
          this.buf += "]";
        }
        return;
      case "s":
        this.pad(this.truncate(Buffer.from(bytes).toString("utf8")));
        return;
      case "x":
        this.fmtSbx(bytes, LDIGITS);
        return;
      case "X":
        this.fmtSbx(bytes, UDIGITS);
        return;
      case "q":
        this.fmtQ(Buffer.from(bytes).toString("utf8"));
        return;
      default:
        this.printValue(value, verb, 0);
    }
  }

  private fmtPointer(v: Value, verb: string): void {
    let u: bigint;
    switch (v.kind) {
      case "chan":
      case "func":
      case "map":
      case "pointer":
      case "slice":
        u = addressOf(v.raw);
        break;
      default:
        this.badVerb(verb);
        return;
    }
    switch (verb) {
      case "v":
        if (this.f.sharpV) {
          this.buf += `(${v.type})(`;
          if (u === 0n) this.buf += "nil";
          else this.fmt0x64(u, true);
          this.buf += ")";
        } else if (u === 0n) this.pad("<nil>");
        else this.fmt0x64(u, !this.f.sharp);
        return;
      case "p":
        this.fmt0x64(u, !this.f.sharp);
        return;
      case "b":
      case "o":
      case "d":
      case "x":
      case "X":
        this.fmtInteger(u, false, verb);
        return;
      default:
        this.badVerb(verb);
    }
  }

  // ---- errors in the output

  private badVerb(verb: string): void {
    this.erroring = true;
    this.buf += `%!${verb}(`;
    if (this.arg.isValid()) {
      this.buf += `${this.arg.type}=`;
      this.printArg(this.arg, "v");
    } else if (this.value.isValid()) {
      this.buf += `${this.value.type}=`;
      this.printValue(this.value, "v", 0);
    } else this.buf += "<nil>";
    this.buf += ")";
    this.erroring = false;
  }

  // ---- values

  private handleMethods(v: Value, verb: string): boolean {
    if (this.erroring || this.f.sharpV) return false;
    if (!"vsxXq".includes(verb)) return false;
    for (const name of ["Error", "String"]) {
      const m = methodOf(v.type!, name, false);
      if (m?.sig.params.length !== 0) continue;
      const receiver = v.raw instanceof Ref ? v.raw.value : v.raw;
      let s: string;
      try {
        s = String((m.fn as (...a: unknown[]) => unknown).call(receiver));
      } catch (e) {
        if (v.kind === "pointer" && v.isNil()) {
          this.pad("<nil>");
          return true;
        }
        const old = this.f;
        this.f = clearFlags();
        this.buf += `%!${verb}(PANIC=${name} method: ${(e as Error).message})`;
        this.f = old;
        return true;
      }
      this.fmtString(s, verb);
      return true;
    }
    return false;
  }

  printArg(arg: Value, verb: string): void {
    arg = indirectInterface(arg);
    this.arg = arg;
    this.value = Value.INVALID;
    if (!arg.isValid()) {
      if (verb === "T" || verb === "v") this.pad("<nil>");
      else this.badVerb(verb);
      return;
    }
    if (verb === "T") {
      this.fmtString(String(arg.type), "s");
      return;
    }
    if (verb === "p") {
      this.fmtPointer(arg, "p");
      return;
    }
    // An unnamed []byte is one of the types fmt formats without looking for methods.
    if (arg.type === BYTES) {
      this.fmtBytes(bytesOf(arg), verb, "[]byte", arg);
      return;
    }
    if (!this.handleMethods(arg, verb)) this.printValue(arg, verb, 0);
  }

  printValue(v: Value, verb: string, depth: number): void {
    if (depth > 0 && v.isValid() && v.kind !== "interface") {
      const saved = this.arg;
      this.arg = v;
      const handled = this.handleMethods(v, verb);
      this.arg = saved;
      if (handled) return;
    }
    this.arg = Value.INVALID;
    this.value = v;
    const k = v.kind;
    if (k === "invalid") {
      if (depth === 0) this.buf += "<invalid reflect.Value>";
      else if (verb === "v") this.buf += "<nil>";
      else this.badVerb(verb);
      return;
    }
    if (k === "bool") {
      this.fmtBoolean(v.raw as boolean, verb);
      return;
    }
    if (isIntKind(k)) {
      this.fmtInteger(bigOf(v.raw), true, verb);
      return;
    }
    if (isUintKind(k)) {
      this.fmtInteger(bigOf(v.raw), false, verb);
      return;
    }
    if (isFloatKind(k)) {
      this.fmtFloat(v.raw as number, v.type === FLOAT32 ? 32 : 64, verb);
      return;
    }
    if (isComplexKind(k)) {
      this.fmtComplex(v.raw as Complex, k === "complex64" ? 64 : 128, verb);
      return;
    }
    switch (k) {
      case "string":
        this.fmtString(v.raw as string, verb);
        return;
      case "map": {
        if (this.f.sharpV) {
          this.buf += String(v.type);
          if (v.isNil()) {
            this.buf += "(nil)";
            return;
          }
          this.buf += "{";
        } else this.buf += "map[";
        mapEntries(v).forEach(([key, x], i) => {
          if (i > 0) this.buf += this.f.sharpV ? ", " : " ";
          this.printValue(key, verb, depth + 1);
          this.buf += ":";
          this.printValue(x, verb, depth + 1);
        });
        this.buf += this.f.sharpV ? "}" : "]";
        return;
      }
      case "struct": {
        if (this.f.sharpV) this.buf += String(v.type);
        this.buf += "{";
        structFields(v).forEach(({ name, value }, i) => {
          if (i > 0) this.buf += this.f.sharpV ? ", " : " ";
          if (this.f.plusV || this.f.sharpV) this.buf += `${name}:`;
          this.printValue(value, verb, depth + 1);
        });
        this.buf += "}";
        return;
      }
      case "interface": {
        const inner = indirectInterface(v);
        if (!inner.isValid()) {
          if (this.f.sharpV) this.buf += `${v.type}(nil)`;
          else this.buf += "<nil>";
        } else this.printValue(inner, verb, depth + 1);
        return;
      }
      case "array":
      case "slice": {
        if ("sqxX".includes(verb) && v.type!.elem!.kind === "uint8") {
          this.fmtBytes(bytesOf(v), verb, String(v.type), v);
          return;
        }
        const n = lengthOf(v);
        if (this.f.sharpV) {
          this.buf += String(v.type);
          if (k === "slice" && v.isNil()) {
            this.buf += "(nil)";
            return;
          }
          this.buf += "{";
          for (let i = 0; i < n; i++) {
            if (i > 0) this.buf += ", ";
            this.printValue(indexValue(v, i), verb, depth + 1);
          }
          this.buf += "}";
        } else {
          this.buf += "[";
          for (let i = 0; i < n; i++) {
            if (i > 0) this.buf += " ";
            this.printValue(indexValue(v, i), verb, depth + 1);
          }
          this.buf += "]";
        }
        return;
      }
      case "pointer":
        if (depth === 0 && !v.isNil()) {
          const a = elem(v);
          if (a.kind === "array" || a.kind === "slice" || a.kind === "struct" || a.kind === "map") {
            this.buf += "&";
            this.printValue(a, verb, depth + 1);
            return;
          }
        }
        this.fmtPointer(v, verb);
        return;
      default:
        this.fmtPointer(v, verb);
        return;
    }
  }

  // ---- Printf

  doPrintf(format: string, args: readonly Value[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    /** Parses an [n] argument index at format[i]; returns the new argNum and position. */
    const argNumber = (
      current: number,
      i: number,
    ): { argNum: number; i: number; found: boolean; ok: boolean } => {
      if (format.length <= i || format[i] !== "[") return { argNum: current, i, found: false, ok: true };
      reordered = true;
      for (let j = 1; j < format.length - i; j++) {
        if (format[i + j] === "]") {
          const text = format.slice(i + 1, i + j);
          const index = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
          if (!Number.isInteger(index) || text.length === 0) {
            return { argNum: current, i: i + j + 1, found: true, ok: false };
          }
          const n = index - 1;
          if (n >= 0 && n < args.length) return { argNum: n, i: i + j + 1, found: true, ok: true };
          return { argNum: current, i: i + j + 1, found: true, ok: false };
        }
      }
      return { argNum: current, i: i + 1, found: true, ok: false };
    };

    const intFromArg = (n: number): { num: number; isInt: boolean; argNum: number } => {
      let num = 0;
      let isInt = false;
      if (n < args.length) {
        const a = indirectInterface(args[n]!);
        if (isIntKind(a.kind) || isUintKind(a.kind)) {
          const big = bigOf(a.raw);
          isInt = big >= -1000000n && big <= 1000000n;
          num = isInt ? Number(big) : 0;
        }
        n++;
      }
      return { num, isInt, argNum: n };
    };

    let i = 0;
    while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== "%") i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      this.f = clearFlags();
      // Flags.
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case "#":
            this.f.sharp = true;
            break;
          case "0":
            this.f.zero = !this.f.minus;
            break;
          case "+":
            this.f.plus = true;
            break;
          case "-":
            this.f.minus = true;
            this.f.zero = false;
            break;
          case " ":
            this.f.space = true;
            break;
          default:
            break flags;
        }
      }
      // Argument index, width.
      let r = argNumber(argNum, i);
      argNum = r.argNum;
      i = r.i;
      afterIndex = r.found;
      if (!r.ok) goodArgNum = false;
      if (i < end && format[i] === "*") {
        i++;
        const w = intFromArg(argNum);
        this.f.wid = w.num;
        this.f.widPresent = w.isInt;
        argNum = w.argNum;
        if (!this.f.widPresent) this.buf += "%!(BADWIDTH)";
        if (this.f.wid < 0) {
          this.f.wid = -this.f.wid;
          this.f.minus = true;
          this.f.zero = false;
        }
        afterIndex = false;
      } else {
        const n = parseNum(format, i);
        this.f.wid = n.num;
        this.f.widPresent = n.isNum;
        i = n.next;
        if (afterIndex && this.f.widPresent) goodArgNum = false;
      }
      // Precision.
      if (i + 1 < end && format[i] === ".") {
        i++;
        if (afterIndex) goodArgNum = false;
        r = argNumber(argNum, i);
        argNum = r.argNum;
        i = r.i;
        afterIndex = r.found;
        if (!r.ok) goodArgNum = false;
        if (i < end && format[i] === "*") {
          i++;
          const p = intFromArg(argNum);
          this.f.prec = p.num;
          this.f.precPresent = p.isInt;
          argNum = p.argNum;
          if (this.f.prec < 0) {
            this.f.prec = 0;
            this.f.precPresent = false;
          }
          if (!p.isInt) this.buf += "%!(BADPREC)";
          afterIndex = false;
        } else {
          const n = parseNum(format, i);
          this.f.prec = n.num;
          this.f.precPresent = true;
          i = n.next;
        }
      }
      if (!afterIndex) {
        r = argNumber(argNum, i);
        argNum = r.argNum;
        i = r.i;
        afterIndex = r.found;
        if (!r.ok) goodArgNum = false;
      }
      if (i >= end) {
        this.buf += "%!(NOVERB)";
        break;
      }
      const cp = format.codePointAt(i)!;
      const verb = String.fromCodePoint(cp);
      i += verb.length;
      if (verb === "%") {
        this.buf += "%";
      } else if (!goodArgNum) {
        this.buf += `%!${verb}(BADINDEX)`;
      } else if (argNum >= args.length) {
        this.buf += `%!${verb}(MISSING)`;
      } else {
        if (verb === "v") {
          this.f.sharpV = this.f.sharp;
          this.f.sharp = false;
          this.f.plusV = this.f.plus;
          this.f.plus = false;
        }
        this.printArg(args[argNum]!, verb);
        argNum++;
      }
    }
    if (!reordered && argNum < args.length) {
      this.f = clearFlags();
      this.buf += "%!(EXTRA ";
      args.slice(argNum).forEach((a, n) => {
        if (n > 0) this.buf += ", ";
        const v = indirectInterface(a);
        if (!v.isValid()) this.buf += "<nil>";
        else {
          this.buf += `${v.type}=`;
          this.printArg(v, "v");
        }
      });
      this.buf += ")";
    }
  }
}

/** fmt's parsenum: digits at i; a number past a million means a crazy format, which ends here. */
function parseNum(s: string, i: number): { num: number; isNum: boolean; next: number } {
  let num = 0;
  let isNum = false;
  let j = i;
  for (; j < s.length && s[j]! >= "0" && s[j]! <= "9"; j++) {
    if (num > 1e6) return { num: 0, isNum: false, next: s.length };
    num = num * 10 + (s.charCodeAt(j) - 48);
    isNum = true;
  }
  return { num, isNum, next: j };
}

function bytesOf(v: Value): Uint8Array {
  const raw = v.raw;
  if (raw instanceof Uint8Array) return raw;
  if (raw instanceof SliceHeader) {
    return Uint8Array.from(raw.backing.slice(raw.offset, raw.offset + raw.length) as number[]);
  }
  if (Array.isArray(raw)) return Uint8Array.from(raw as number[]);
  return new Uint8Array();
}

/** The shortest digits that read back as the same float32. */
function formatFloat32Shortest(v: number, verb: FloatFormat): string {
  if (!Number.isFinite(v) || v === 0) return formatFloat(v, verb, -1);
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return formatFloat(Number(s), verb, -1);
  }
  return formatFloat(v, verb, -1);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly Value[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: readonly Value[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((a, n) => {
    const v = indirectInterface(a);
    const isString = v.kind === "string";
    if (n > 0 && !isString && !prevString) p.buf += " ";
    p.f = clearFlags();
    p.printArg(v, "v");
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: a space between all operands, and a newline. */
export function sprintln(args: readonly Value[]): string {
  const p = new Printer();
  args.forEach((a, n) => {
    if (n > 0) p.buf += " ";
    p.f = clearFlags();
    p.printArg(a, "v");
  });
  return `${p.buf}\n`;
}
