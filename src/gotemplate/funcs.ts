/**
 * The functions every template has (text/template/funcs.go): and, or, not, len, index, slice,
 * call, print, printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge. They take and return
 * the executor's Values, as Go's take reflect.Values, so they follow Go's type rules exactly.
 */
import { sprint, sprintf, sprintln } from "./fmt.js";
import { isPrint } from "./strconv.js";
import {
  ANY,
  assignableTo,
  BOOL,
  canBeNil,
  ERROR,
  funcOf,
  type GoType,
  INT,
  implementsInterface,
  isComplexKind,
  isFloatKind,
  isIntKind,
  isUintKind,
  pointerTo,
  REFLECT_VALUE,
  STRING,
  STRINGER,
} from "./types.js";
import {
  type Complex,
  capOf,
  indexValue,
  indirect,
  indirectInterface,
  lengthOf,
  mapIndex,
  Ref,
  sliceValue,
  structFields,
  Value,
  zeroValue,
} from "./values.js";

/** An error a function returns (or a panic it raises): "error calling NAME: MESSAGE". */
export class GoError extends Error {
  override readonly name = "GoError";
}

/** A builtin: its Go signature and an implementation over Values. */
export interface Builtin {
  readonly type: GoType;
  readonly fn: (...args: Value[]) => Value;
}

const V = REFLECT_VALUE;

// ---------------------------------------------------------------------------------------------
// Truth

/** isTrue: the truth of a value as if/with/and/or see it; ok is false where it has none. */
export function isTrue(val: Value): { truth: boolean; ok: boolean } {
  if (!val.isValid()) return { truth: false, ok: true };
  const k = val.kind;
  switch (k) {
    case "array":
    case "map":
    case "slice":
    case "string":
      return { truth: lengthOf(val) > 0, ok: true };
    case "bool":
      return { truth: val.raw === true, ok: true };
    case "chan":
    case "func":
    case "pointer":
    case "interface":
      return { truth: !val.isNil(), ok: true };
    case "struct":
      return { truth: true, ok: true };
  }
  if (isIntKind(k) || isUintKind(k) || isFloatKind(k)) {
    const x = val.raw as number | bigint;
    return { truth: typeof x === "bigint" ? x !== 0n : x !== 0, ok: true };
  }
  if (isComplexKind(k)) {
    const c = val.raw as Complex;
    return { truth: c.re !== 0 || c.im !== 0, ok: true };
  }
  return { truth: false, ok: false };
}

export function truth(v: Value): boolean {
  return isTrue(indirectInterface(v)).truth;
}

// ---------------------------------------------------------------------------------------------
// Indexing

function intLike(k: string): boolean {
  return isIntKind(k as never) || isUintKind(k as never);
}

function big(raw: unknown): bigint {
  if (typeof raw === "bigint") return raw;
  return BigInt(Math.trunc(raw as number));
}

/** An argument used as an index: a Go integer in [0, cap]. */
function indexArg(index: Value, cap: number): number {
  let x: bigint;
  if (intLike(index.kind)) x = big(index.raw);
  else if (!index.isValid()) throw new GoError("cannot index slice/array with nil");
  else throw new GoError(`cannot index slice/array with type ${index.type}`);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

/** prepareArg: a value converted to a parameter's type, as `index` and `call` pass arguments. */
export function prepareArg(value: Value, argType: GoType): Value {
  if (!value.isValid()) {
    if (!canBeNil(argType)) throw new GoError(`value is nil; should be of type ${argType}`);
    return zeroValue(argType);
  }
  if (assignableTo(value.type!, argType)) return value;
  if (intLike(value.kind) && intLike(argType.kind)) return new Value(argType, value.raw);
  throw new GoError(`value has type ${value.type}; should be ${argType}`);
}

function index(item: Value, ...indexes: Value[]): Value {
  item = indirectInterface(item);
  if (!item.isValid()) throw new GoError("index of untyped nil");
  for (let idx of indexes) {
    idx = indirectInterface(idx);
    const ind = indirect(item);
    if (ind.isNil) throw new GoError("index of nil pointer");
    item = ind.value;
    switch (item.kind) {
      case "array":
      case "slice":
      case "string": {
        const n = lengthOf(item);
        const x = indexArg(idx, n);
        if (x >= n) {
          throw new GoError(`reflect: ${item.kind === "string" ? "string" : "slice"} index out of range`);
        }
        item = indexValue(item, x);
        break;
      }
      case "map": {
        const key = prepareArg(idx, item.type!.key!);
        item = mapIndex(item, key) ?? zeroValue(item.type!.elem!);
        break;
      }
      default:
        throw new GoError(`can't index item of type ${item.type}`);
    }
  }
  return item;
}

function slice(item: Value, ...indexes: Value[]): Value {
  item = indirectInterface(item);
  if (!item.isValid()) throw new GoError("slice of untyped nil");
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  switch (item.kind) {
    case "string":
      if (indexes.length === 3) throw new GoError("cannot 3-index slice a string");
      cap = lengthOf(item);
      break;
    case "array":
    case "slice":
      cap = capOf(item);
      break;
    default:
      throw new GoError(`can't slice item of type ${item.type}`);
  }
  const idx = [0, lengthOf(item), 0];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(indirectInterface(x), cap);
  });
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length < 3) return sliceValue(item, idx[0]!, idx[1]!);
  if (idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  return sliceValue(item, idx[0]!, idx[1]!, idx[2]!);
}

function length(item: Value): Value {
  const { value, isNil } = indirect(item);
  if (isNil) throw new GoError("len of nil pointer");
  switch (value.kind) {
    case "array":
    case "chan":
    case "map":
    case "slice":
    case "string":
      return new Value(INT, lengthOf(value));
    case "invalid":
      throw new GoError("reflect: call of reflect.Value.Type on zero Value");
  }
  throw new GoError(`len of type ${value.type}`);
}

// ---------------------------------------------------------------------------------------------
// Comparison

type BasicKind = "invalid" | "bool" | "complex" | "int" | "float" | "string" | "uint";

function basicKind(v: Value): BasicKind {
  const k = v.kind;
  if (k === "bool") return "bool";
  if (isIntKind(k)) return "int";
  if (isUintKind(k)) return "uint";
  if (isFloatKind(k)) return "float";
  if (isComplexKind(k)) return "complex";
  if (k === "string") return "string";
  return "invalid";
}

const errBadComparisonType = () => new GoError("invalid type for comparison");
const errBadComparison = () => new GoError("incompatible types for comparison");
const errNoComparison = () => new GoError("missing argument for comparison");

function isNilValue(v: Value): boolean {
  if (!v.isValid()) return true;
  switch (v.kind) {
    case "chan":
    case "func":
    case "interface":
    case "map":
    case "pointer":
    case "slice":
      return v.isNil();
  }
  return false;
}

function comparable(t: GoType): boolean {
  switch (t.kind) {
    case "map":
    case "slice":
    case "func":
      return false;
    case "array":
      return comparable(t.elem!);
    case "struct":
      return t.fields.every((f) => comparable(f.type));
    default:
      return true;
  }
}

/** Go's == on two values of one comparable type. */
function goEqual(a: Value, b: Value): boolean {
  if (a.kind === "interface" || b.kind === "interface") {
    const x = indirectInterface(a);
    const y = indirectInterface(b);
    if (!x.isValid() || !y.isValid()) return !x.isValid() && !y.isValid();
    return goEqual(x, y);
  }
  if (a.type !== b.type) return false;
  const k = a.kind;
  if (isIntKind(k) || isUintKind(k)) return big(a.raw) === big(b.raw);
  if (isComplexKind(k)) {
    const x = a.raw as Complex;
    const y = b.raw as Complex;
    return x.re === y.re && x.im === y.im;
  }
  if (k === "struct") {
    const fa = structFields(a);
    const fb = structFields(b);
    return fa.every((f, i) => goEqual(f.value, fb[i]!.value));
  }
  if (k === "array") {
    const n = lengthOf(a);
    for (let i = 0; i < n; i++) if (!goEqual(indexValue(a, i), indexValue(b, i))) return false;
    return true;
  }
  return a.raw === b.raw;
}

function compareNums(a: Value, b: Value, kind: BasicKind): number {
  if (kind === "int" || kind === "uint") {
    const x = big(a.raw);
    const y = big(b.raw);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = a.raw as number;
  const y = b.raw as number;
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : Number.NaN;
}

function compareGoStrings(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return Buffer.compare(x, y);
}

function eq(arg1: Value, ...arg2: Value[]): Value {
  arg1 = indirectInterface(arg1);
  if (arg2.length === 0) throw errNoComparison();
  const k1 = basicKind(arg1);
  for (let arg of arg2) {
    arg = indirectInterface(arg);
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (k1 === "int" && k2 === "uint") t = big(arg1.raw) >= 0n && big(arg1.raw) === big(arg.raw);
      else if (k1 === "uint" && k2 === "int") t = big(arg.raw) >= 0n && big(arg1.raw) === big(arg.raw);
      else if (arg1.isValid() && arg.isValid()) throw errBadComparison();
    } else {
      switch (k1) {
        case "bool":
        case "string":
          t = arg1.raw === arg.raw;
          break;
        case "complex": {
          const x = arg1.raw as Complex;
          const y = arg.raw as Complex;
          t = x.re === y.re && x.im === y.im;
          break;
        }
        case "float":
        case "int":
        case "uint":
          t = compareNums(arg1, arg, k1) === 0;
          break;
        default: {
          if (!(arg1.kind === arg.kind || !arg1.isValid() || !arg.isValid())) {
            throw new GoError(
              `non-comparable types ${sprint([arg1])}: ${arg1.type}, ${arg.type}: ${sprint([arg])}`,
            );
          }
          if (isNilValue(arg1) || isNilValue(arg)) t = isNilValue(arg) === isNilValue(arg1);
          else {
            if (!comparable(arg.type!))
              throw new GoError(`non-comparable type ${sprint([arg])}: ${arg.type}`);
            t = goEqual(arg1, arg);
          }
        }
      }
    }
    if (t) return new Value(BOOL, true);
  }
  return new Value(BOOL, false);
}

function lessThan(arg1: Value, arg2: Value): boolean {
  arg1 = indirectInterface(arg1);
  const k1 = basicKind(arg1);
  if (k1 === "invalid") throw errBadComparisonType();
  arg2 = indirectInterface(arg2);
  const k2 = basicKind(arg2);
  if (k2 === "invalid") throw errBadComparisonType();
  if (k1 !== k2) {
    if (k1 === "int" && k2 === "uint") return big(arg1.raw) < 0n || big(arg1.raw) < big(arg2.raw);
    if (k1 === "uint" && k2 === "int") return big(arg2.raw) >= 0n && big(arg1.raw) < big(arg2.raw);
    throw errBadComparison();
  }
  switch (k1) {
    case "bool":
    case "complex":
      throw errBadComparisonType();
    case "string":
      return compareGoStrings(arg1.raw as string, arg2.raw as string) < 0;
    default:
      return compareNums(arg1, arg2, k1) < 0;
  }
}

const bool = (b: boolean) => new Value(BOOL, b);

function lt(a: Value, b: Value): Value {
  return bool(lessThan(a, b));
}

function le(a: Value, b: Value): Value {
  if (lessThan(a, b)) return bool(true);
  return eq(a, b);
}

function gt(a: Value, b: Value): Value {
  return bool(!(le(a, b).raw as boolean));
}

function ge(a: Value, b: Value): Value {
  return bool(!lessThan(a, b));
}

function ne(a: Value, b: Value): Value {
  return bool(!(eq(a, b).raw as boolean));
}

// ---------------------------------------------------------------------------------------------
// Escaping

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
    if (c >= 0x80) {
      out += isPrint(ch) ? ch : `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
      continue;
    }
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case "'":
        out += "\\'";
        break;
      case '"':
        out += '\\"';
        break;
      case "<":
        out += "\\u003C";
        break;
      case ">":
        out += "\\u003E";
        break;
      case "&":
        out += "\\u0026";
        break;
      case "=":
        out += "\\u003D";
        break;
      default:
        out += c < 0x20 ? `\\u00${c.toString(16).toUpperCase().padStart(2, "0")}` : ch;
    }
  }
  return out;
}

/** url.QueryEscape. */
function queryEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The text of html/js/urlquery's arguments: fmt.Sprint of them, each indirected first as the
 * executor does when it prints a value (so a *string prints its string, a nil one "<nil>").
 */
export function evalArgs(args: readonly Value[]): string {
  if (args.length === 1) {
    const only = indirectInterface(args[0]!);
    if (only.kind === "string" && only.type === STRING) return only.raw as string;
  }
  return sprint(
    args.map((a) => {
      const p = printableValue(indirectInterface(a));
      return p.ok ? p.value : a;
    }),
  );
}

/** printableValue: pointers followed, a value with String/Error on its pointer given as that pointer. */
export function printableValue(v: Value): { value: Value; ok: boolean } {
  if (v.kind === "pointer") v = indirect(v).value;
  if (!v.isValid()) return { value: new Value(STRING, "<no value>"), ok: true };
  const t = v.type!;
  if (!implementsInterface(t, ERROR) && !implementsInterface(t, STRINGER)) {
    const pt = pointerTo(t);
    if (t.kind !== "interface" && (implementsInterface(pt, ERROR) || implementsInterface(pt, STRINGER))) {
      return { value: addressOf(v), ok: true };
    }
    if (v.kind === "chan" || v.kind === "func") return { value: v, ok: false };
  }
  return { value: v, ok: true };
}

/** v.Addr(): a pointer to v (the same object, for a struct). */
export function addressOf(v: Value): Value {
  const raw = v.kind === "struct" ? v.raw : new Ref(v.raw);
  return new Value(pointerTo(v.type!), raw);
}

// ---------------------------------------------------------------------------------------------
// The table

const sig = (params: GoType[], results: GoType[], variadic = false) => funcOf(params, results, variadic);

export const BUILTINS: Record<string, Builtin> = {
  and: { type: sig([V, V], [V], true), fn: () => Value.INVALID }, // short-circuited by the executor
  or: { type: sig([V, V], [V], true), fn: () => Value.INVALID },
  call: { type: sig([V, V], [V], true), fn: () => Value.INVALID }, // done by the executor
  html: { type: sig([ANY], [STRING], true), fn: (...a) => new Value(STRING, htmlEscape(evalArgs(a))) },
  index: { type: sig([V, V], [V, ERROR], true), fn: index },
  slice: { type: sig([V, V], [V, ERROR], true), fn: slice },
  js: { type: sig([ANY], [STRING], true), fn: (...a) => new Value(STRING, jsEscape(evalArgs(a))) },
  len: { type: sig([V], [INT, ERROR]), fn: length },
  not: { type: sig([V], [BOOL]), fn: (a) => new Value(BOOL, !truth(a)) },
  print: { type: sig([ANY], [STRING], true), fn: (...a) => new Value(STRING, sprint(a)) },
  printf: {
    type: sig([STRING, ANY], [STRING], true),
    fn: (f, ...a) => new Value(STRING, sprintf(f.raw as string, a)),
  },
  println: { type: sig([ANY], [STRING], true), fn: (...a) => new Value(STRING, sprintln(a)) },
  urlquery: { type: sig([ANY], [STRING], true), fn: (...a) => new Value(STRING, queryEscape(evalArgs(a))) },
  eq: { type: sig([V, V], [BOOL, ERROR], true), fn: eq },
  ge: { type: sig([V, V], [BOOL, ERROR]), fn: ge },
  gt: { type: sig([V, V], [BOOL, ERROR]), fn: gt },
  le: { type: sig([V, V], [BOOL, ERROR]), fn: le },
  lt: { type: sig([V, V], [BOOL, ERROR]), fn: lt },
  ne: { type: sig([V, V], [BOOL, ERROR]), fn: ne },
};

export { htmlEscape, jsEscape, queryEscape };
