/**
 * How JavaScript values stand for Go values, and `Value`, the executor's equivalent of
 * reflect.Value (a Go type and the JavaScript value that holds it).
 *
 * A value with no explicit type is given one the way Go would have declared it:
 * - `undefined` is no value at all (a nil interface: "<no value>"); `null` is a nil pointer ("<nil>");
 * - a boolean is bool, a string is string, an integral number is int, any other number float64,
 *   a bigint int64;
 * - an array is a slice of its elements' common type (else []interface {}), a Uint8Array is []uint8;
 * - a Map, or a plain object, is a map (keys sorted when printed; a missing key is "<no value>");
 * - an object marked by {@link goStruct} is a struct value (fields in order, a missing one is an
 *   error), an instance of a class is a pointer to a struct (*Name), a Date is time.Time, an Error
 *   is an error; functions that are properties of a struct, or of a class's prototype, are its
 *   methods when their names are exported (start with an upper-case letter);
 * - anything else is said with {@link typed} (a uint16, a float64 that happens to be integral, a
 *   typed nil pointer, ...), {@link declareStruct} (a class whose fields and methods have Go types)
 *   or {@link goFunc} (a function's signature).
 */
import {
  ANY,
  BOOL,
  COMPLEX128,
  canBeNil,
  FLOAT64,
  funcOf,
  type GoType,
  INT,
  INT64,
  isComplexKind,
  isFloatKind,
  isIntKind,
  isUintKind,
  type Kind,
  type Method,
  mapOf,
  methodOf,
  named,
  pointerTo,
  REFLECT_VALUE,
  type Signature,
  STRING,
  sliceOf,
  structOf,
  UINT8,
} from "./types.js";

/** A complex number (complex128). */
export class Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

/** A pointer to a value that is not a struct; a pointer to a struct is the struct's object itself. */
export class Ref {
  constructor(public value: unknown) {}
}

/** A slice whose capacity goes beyond its length (Go's make([]T, len, cap)). */
export class SliceHeader {
  constructor(
    readonly backing: readonly unknown[],
    readonly offset: number,
    readonly length: number,
    readonly capacity: number,
  ) {}
}

/** A JavaScript value with an explicit Go type. */
export class Typed {
  constructor(
    readonly type: GoType,
    readonly value: unknown,
  ) {}
}

/** Gives a JavaScript value an explicit Go type: `typed(UINT16, 16)`, `typed(pointerTo(INT), null)`. */
export function typed(type: GoType, value: unknown): Typed {
  return new Typed(type, value);
}

const funcTypes = new WeakMap<object, GoType>();

/**
 * Declares a function's Go signature (a func type from {@link funcOf}); returns the function. The
 * type is kept per function object: give each signature a function of its own.
 */
export function goFunc<F extends (...args: never[]) => unknown>(type: GoType, fn: F): F {
  funcTypes.set(fn, type);
  return fn;
}

const classTypes = new WeakMap<object, GoType>();

/**
 * Declares the Go struct type of a class's instances: its fields (in order, with their types) and
 * its methods (with signatures; `pointer` for a method declared on *T). An instance is then a *T.
 */
export function declareStruct(
  ctor: abstract new (...args: never[]) => object,
  name: string,
  fields: Record<string, GoType>,
  methods: Record<string, { type: GoType; pointer?: boolean }> = {},
): GoType {
  const t = named(name, structOf([]));
  t.fields = Object.entries(fields).map(([n, type]) => ({ name: n, type }));
  for (const [n, m] of Object.entries(methods)) {
    const fn = (ctor.prototype as Record<string, unknown>)[n];
    if (typeof fn !== "function") throw new Error(`declareStruct: ${name} has no method ${n}`);
    t.methods.set(n, {
      name: n,
      sig: m.type.sig!,
      pointerReceiver: m.pointer ?? true,
      fn: fn as Method["fn"],
    });
  }
  classTypes.set(ctor, t);
  return t;
}

/** Adds methods to a named type whose values are not objects (`type S []string` with `func (S) M()`). */
export function declareMethods(
  t: GoType,
  methods: Record<string, { type: GoType; fn: (...args: never[]) => unknown; pointer?: boolean }>,
): GoType {
  for (const [n, m] of Object.entries(methods)) {
    t.methods.set(n, { name: n, sig: m.type.sig!, pointerReceiver: m.pointer ?? false, fn: m.fn });
  }
  return t;
}

const structMarks = new WeakMap<object, string | undefined>();

/**
 * Marks a plain object as a Go struct: its fields keep their order and a field it lacks is an
 * error, as with the structs docker formats. `typeName` is the name Go's messages give its type,
 * such as "*formatter.ContainerContext" (a leading `*` makes it a pointer to the struct).
 */
export function goStruct<T extends object>(value: T, typeName?: string): T {
  structMarks.set(value, typeName);
  inferred.delete(value);
  return value;
}

export function isGoStruct(value: object): boolean {
  return structMarks.has(value);
}

/** time.Time, printed as its String method does ("2006-01-02 15:04:05.999999999 +0000 UTC"). */
export const TIME = named("time.Time", structOf([]));
TIME.methods.set("String", {
  name: "String",
  sig: funcOf([], [STRING]).sig!,
  pointerReceiver: false,
  fn: function (this: Date) {
    return goTimeString(this);
  } as Method["fn"],
});

const ERROR_STRING = named("errors.errorString", structOf([{ name: "s", type: STRING }]));
ERROR_STRING.methods.set("Error", {
  name: "Error",
  sig: funcOf([], [STRING]).sig!,
  pointerReceiver: true,
  fn: function (this: Error) {
    return this.message;
  } as Method["fn"],
});

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** time.Time's String(), in UTC. */
function goTimeString(t: Date): string {
  const ms = t.getUTCMilliseconds();
  const frac = ms ? `.${pad(ms, 3).replace(/0+$/, "")}` : "";
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}${frac} +0000 UTC`
  );
}

// ---------------------------------------------------------------------------------------------
// Inferring types

const inferred = new WeakMap<object, GoType>();
const inferring = new WeakSet<object>();

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/** Exported names start with an upper-case letter, as in Go. */
export function isExported(name: string): boolean {
  const c = name.codePointAt(0);
  if (c === undefined) return false;
  const ch = String.fromCodePoint(c);
  return ch.toUpperCase() === ch && ch.toLowerCase() !== ch;
}

function commonType(types: readonly GoType[]): GoType {
  const first = types[0];
  if (!first) return ANY;
  return types.every((t) => t === first) ? first : ANY;
}

function elementType(x: unknown): GoType {
  return x === undefined ? ANY : typeOfJs(x);
}

function defaultFuncType(fn: (...args: never[]) => unknown): GoType {
  return funcOf(
    Array.from({ length: fn.length }, () => ANY),
    [ANY],
  );
}

/** The signature of a JavaScript function: declared with {@link goFunc}, else (interface{}...) interface{}. */
export function funcTypeOf(fn: (...args: never[]) => unknown): GoType {
  return funcTypes.get(fn) ?? defaultFuncType(fn);
}

function addObjectMethods(t: GoType, obj: object, from: "own" | "prototype"): void {
  if (from === "own") {
    for (const [name, v] of Object.entries(obj)) {
      if (typeof v === "function" && isExported(name)) {
        const sig = funcTypeOf(v as Method["fn"]).sig!;
        t.methods.set(name, { name, sig, pointerReceiver: false, fn: v as Method["fn"] });
      }
    }
    return;
  }
  for (let proto = Object.getPrototypeOf(obj); proto && proto !== Object.prototype; ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, name)!;
      if (typeof desc.value === "function" && isExported(name) && !t.methods.has(name)) {
        const sig = funcTypeOf(desc.value as Method["fn"]).sig!;
        t.methods.set(name, { name, sig, pointerReceiver: true, fn: desc.value as Method["fn"] });
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
}

/** Fields of an object that stands for a struct: own data properties, then getters of its class. */
function objectFields(obj: object): { name: string; type: GoType }[] {
  const fields: { name: string; type: GoType }[] = [];
  const seen = new Set<string>();
  for (const [name, v] of Object.entries(obj)) {
    if (typeof v === "function") continue;
    seen.add(name);
    fields.push({ name, type: elementType(v) });
  }
  for (let proto = Object.getPrototypeOf(obj); proto && proto !== Object.prototype; ) {
    for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (desc.get && !seen.has(name) && isExported(name)) {
        seen.add(name);
        fields.push({ name, type: elementType((obj as Record<string, unknown>)[name]) });
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
  return fields;
}

function inferObject(v: object): GoType {
  if (Array.isArray(v)) return sliceOf(commonType(v.map(elementType)));
  if (v instanceof Uint8Array) return sliceOf(UINT8);
  if (v instanceof Date) return TIME;
  if (v instanceof Error) return pointerTo(ERROR_STRING);
  if (v instanceof Complex) return COMPLEX128;
  if (v instanceof Ref) return pointerTo(elementType(v.value));
  if (v instanceof SliceHeader) return sliceOf(commonType(v.backing.map(elementType)));
  if (v instanceof Map) {
    const keys = [...v.keys()];
    return mapOf(commonType(keys.map(elementType)), commonType([...v.values()].map(elementType)));
  }
  const declared = classTypes.get(v.constructor);
  if (declared) return pointerTo(declared);
  if (structMarks.has(v)) {
    const name = structMarks.get(v);
    const pointer = name?.startsWith("*") ?? false;
    const base = pointer ? name!.slice(1) : name;
    const s = structOf(objectFields(v));
    const t = base ? named(base, s) : s;
    addObjectMethods(t, v, "own");
    addObjectMethods(t, v, "prototype");
    return pointer ? pointerTo(t) : t;
  }
  if (isPlainObject(v)) {
    return mapOf(STRING, commonType(Object.values(v).map(elementType)));
  }
  const t = named((v.constructor as { name?: string }).name || "struct", structOf(objectFields(v)));
  addObjectMethods(t, v, "prototype");
  return pointerTo(t);
}

/** The Go type a JavaScript value stands for (reflect.TypeOf). */
export function typeOfJs(v: unknown): GoType {
  switch (typeof v) {
    case "boolean":
      return BOOL;
    case "string":
      return STRING;
    case "number":
      return Number.isInteger(v) ? INT : FLOAT64;
    case "bigint":
      return INT64;
    case "function":
      return funcTypeOf(v as Method["fn"]);
    case "object": {
      if (v === null) return NIL_POINTER;
      if (v instanceof Typed) return v.type;
      if (v instanceof Value) return v.type ?? ANY;
      let t = inferred.get(v);
      if (!t) {
        // A value that contains itself: its inner occurrences are interface{} (Go cannot write such a type).
        if (inferring.has(v)) return ANY;
        inferring.add(v);
        try {
          t = inferObject(v);
        } finally {
          inferring.delete(v);
        }
        inferred.set(v, t);
      }
      return t;
    }
    default:
      return ANY;
  }
}

/** The type of a bare `null`: a nil pointer to nothing in particular. */
const NIL_POINTER = pointerTo(ANY);

// ---------------------------------------------------------------------------------------------
// Value

/** A Go value: its type and the JavaScript value holding it (reflect.Value). */
export class Value {
  /** The zero Value: no value at all (a nil interface's content). */
  static readonly INVALID = new Value(undefined, undefined);

  constructor(
    /** undefined for the invalid Value. */
    readonly type: GoType | undefined,
    /**
     * bool: boolean; integers: number or bigint; floats: number; complex: Complex; string: string;
     * slice: array, Uint8Array or SliceHeader (null when nil); array: array; map: Map or plain
     * object (null when nil); struct: object; pointer: the struct object or a Ref (null when nil);
     * interface: the Value it holds (null when nil); func: function (null when nil).
     */
    readonly raw: unknown,
  ) {}

  get kind(): Kind | "invalid" {
    return this.type ? this.type.kind : "invalid";
  }

  isValid(): boolean {
    return this.type !== undefined;
  }

  isNil(): boolean {
    return this.raw === null || this.raw === undefined;
  }

  toString(): string {
    return `<${this.type} Value>`;
  }
}

/** reflect.ValueOf: a JavaScript value (or a {@link Typed} one) as a Value. */
export function toValue(js: unknown): Value {
  if (js instanceof Value) return js;
  if (js === undefined) return Value.INVALID;
  if (js instanceof Typed) return makeValue(js.type, js.value);
  return makeValue(typeOfJs(js), js);
}

/** A JavaScript value held in a slot of a known type (a field, a map element, a result). */
export function makeValue(type: GoType, js: unknown): Value {
  if (type === REFLECT_VALUE) return js instanceof Value ? js : toValue(js);
  if (js instanceof Typed) {
    if (type.kind === "interface") {
      const inner = toValue(js);
      return new Value(type, inner.isValid() ? inner : null);
    }
    return new Value(type, js.value);
  }
  if (js instanceof Value) {
    if (type.kind === "interface") return new Value(type, js.isValid() ? unwrapInterface(js) : null);
    return js.type === type ? js : new Value(type, js.raw);
  }
  if (type.kind === "interface") {
    if (js === undefined) return new Value(type, null);
    const inner = toValue(js);
    return new Value(type, inner);
  }
  if (js === undefined && canBeNil(type)) return new Value(type, null);
  if (js === undefined) return zeroValue(type);
  return new Value(type, js);
}

function unwrapInterface(v: Value): Value | null {
  if (v.kind === "interface") return (v.raw as Value | null) ?? null;
  return v;
}

/** The zero value of a type (reflect.Zero). */
export function zeroValue(type: GoType): Value {
  switch (type.kind) {
    case "bool":
      return new Value(type, false);
    case "string":
      return new Value(type, "");
    case "complex64":
    case "complex128":
      return new Value(type, new Complex(0, 0));
    case "struct":
      return new Value(type, type === TIME ? new Date(0) : {});
    case "array":
      return new Value(
        type,
        Array.from({ length: type.length ?? 0 }, () => zeroValue(type.elem!).raw),
      );
    default:
      if (isIntKind(type.kind) || isUintKind(type.kind) || isFloatKind(type.kind)) return new Value(type, 0);
      return new Value(type, null);
  }
}

/** The concrete value in an interface, or the invalid Value for a nil one (indirectInterface). */
export function indirectInterface(v: Value): Value {
  if (v.kind !== "interface") return v;
  return (v.raw as Value | null) ?? Value.INVALID;
}

/** The value a pointer points to, or an interface holds (reflect.Value.Elem). */
export function elem(v: Value): Value {
  if (v.kind === "interface") return indirectInterface(v);
  if (v.kind === "pointer") {
    const t = v.type!.elem!;
    if (v.raw === null) return Value.INVALID;
    if (v.raw instanceof Ref) return makeValue(t, v.raw.value);
    return makeValue(t, v.raw);
  }
  throw new TypeError(`elem of ${v.type}`);
}

/** Follows pointers and interfaces to a value; `isNil` when it meets a nil one (returned as is). */
export function indirect(v: Value): { value: Value; isNil: boolean } {
  while (v.kind === "pointer" || v.kind === "interface") {
    if (v.isNil()) return { value: v, isNil: true };
    v = elem(v);
  }
  return { value: v, isNil: false };
}

// ---------------------------------------------------------------------------------------------
// Reading values

export function utf8(s: string): Buffer {
  return Buffer.from(s, "utf8");
}

function sliceParts(raw: unknown): {
  items: ArrayLike<unknown>;
  offset: number;
  length: number;
  cap: number;
} {
  if (raw instanceof SliceHeader) {
    return { items: raw.backing, offset: raw.offset, length: raw.length, cap: raw.capacity };
  }
  if (raw === null || raw === undefined) return { items: [], offset: 0, length: 0, cap: 0 };
  const items = raw as ArrayLike<unknown>;
  return { items, offset: 0, length: items.length, cap: items.length };
}

/** len() of a string (in bytes), slice, array, map or channel. */
export function lengthOf(v: Value): number {
  switch (v.kind) {
    case "string":
      return Buffer.byteLength(v.raw as string, "utf8");
    case "slice":
    case "array":
      return sliceParts(v.raw).length;
    case "map":
      return mapEntries(v).length;
    default:
      return 0;
  }
}

export function capOf(v: Value): number {
  return sliceParts(v.raw).cap;
}

/** Element i of a slice, array or string (a byte, for a string). */
export function indexValue(v: Value, i: number): Value {
  if (v.kind === "string") return new Value(UINT8, utf8(v.raw as string)[i]);
  const { items, offset } = sliceParts(v.raw);
  return makeValue(v.type!.elem!, items[offset + i]);
}

/** A slice of a slice, array or string, s[i:j] or s[i:j:k]. */
export function sliceValue(v: Value, i: number, j: number, k?: number): Value {
  if (v.kind === "string")
    return new Value(
      v.type,
      utf8(v.raw as string)
        .subarray(i, j)
        .toString("utf8"),
    );
  const { items, offset, cap } = sliceParts(v.raw);
  const t = v.kind === "array" ? sliceOf(v.type!.elem!) : v.type!;
  const newCap = (k ?? cap) - i;
  if (items instanceof Uint8Array) return new Value(t, items.subarray(offset + i, offset + j));
  const backing = Array.from(items);
  if (newCap === j - i && offset + j <= backing.length)
    return new Value(t, backing.slice(offset + i, offset + j));
  return new Value(t, new SliceHeader(backing, offset + i, j - i, newCap));
}

/** The raw elements of a slice or array, in order. */
export function sliceItems(v: Value): Value[] {
  const { items, offset, length } = sliceParts(v.raw);
  const out: Value[] = [];
  for (let i = 0; i < length; i++) out.push(makeValue(v.type!.elem!, items[offset + i]));
  return out;
}

/** A map's entries, keys sorted as Go's fmt and text/template sort them (internal/fmtsort). */
export function mapEntries(v: Value): [Value, Value][] {
  const t = v.type!;
  const raw = v.raw;
  if (raw === null || raw === undefined) return [];
  const entries: [Value, Value][] = [];
  if (raw instanceof Map) {
    for (const [k, x] of raw) entries.push([makeValue(t.key!, k), makeValue(t.elem!, x)]);
  } else {
    for (const [k, x] of Object.entries(raw as object)) {
      if (x === undefined && t.elem!.kind !== "interface") continue;
      entries.push([makeValue(t.key!, keyFromString(t.key!, k)), makeValue(t.elem!, x)]);
    }
  }
  return entries.sort(([a], [b]) => compareKeys(a, b));
}

function keyFromString(t: GoType, k: string): unknown {
  if (isIntKind(t.kind) || isUintKind(t.kind) || isFloatKind(t.kind)) return Number(k);
  return k;
}

/** Looks a key up in a map: its Value, or undefined when the map has no such key. */
export function mapIndex(v: Value, key: Value): Value | undefined {
  const t = v.type!;
  const raw = v.raw;
  if (raw === null || raw === undefined) return undefined;
  const k = key.kind === "interface" ? indirectInterface(key) : key;
  if (raw instanceof Map) {
    const want = k.raw;
    if (raw.has(want)) return makeValue(t.elem!, raw.get(want));
    if (typeof want === "bigint" && raw.has(Number(want))) return makeValue(t.elem!, raw.get(Number(want)));
    if (typeof want === "number" && raw.has(BigInt(want))) return makeValue(t.elem!, raw.get(BigInt(want)));
    return undefined;
  }
  const name = String(k.raw);
  if (!Object.hasOwn(raw as object, name)) return undefined;
  const x = (raw as Record<string, unknown>)[name];
  if (x === undefined && t.elem!.kind !== "interface") return undefined;
  return makeValue(t.elem!, x);
}

/** Go sorts strings bytewise; for UTF-8 that is code point order, not JavaScript's UTF-16 order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
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

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "number" && Number.isNaN(a)) return typeof b === "number" && Number.isNaN(b) ? 0 : -1;
  if (typeof b === "number" && Number.isNaN(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: Value, b: Value): number {
  if (a.kind === "interface" || b.kind === "interface") {
    const x = indirectInterface(a);
    const y = indirectInterface(b);
    if (!x.isValid() || !y.isValid()) return x.isValid() ? 1 : y.isValid() ? -1 : 0;
    const tx = String(x.type);
    const ty = String(y.type);
    if (tx !== ty) return tx < ty ? -1 : 1;
    return compareKeys(x, y);
  }
  const k = a.kind;
  if (k === "string") return compareStrings(a.raw as string, b.raw as string);
  if (k === "bool") return a.raw === b.raw ? 0 : a.raw ? 1 : -1;
  if (isIntKind(k) || isUintKind(k) || isFloatKind(k)) {
    return compareNumbers(a.raw as number | bigint, b.raw as number | bigint);
  }
  if (isComplexKind(k)) {
    const x = a.raw as Complex;
    const y = b.raw as Complex;
    return compareNumbers(x.re, y.re) || compareNumbers(x.im, y.im);
  }
  return 0;
}

/** A struct's fields, in declaration order, with their values. */
export function structFields(v: Value): { name: string; value: Value }[] {
  const obj = v.raw as Record<string, unknown>;
  return v.type!.fields.map((f) => ({ name: f.name, value: makeValue(f.type, obj?.[f.name]) }));
}

/** A struct's field by name: its Value, or undefined when the struct has no such field. */
export function fieldByName(v: Value, name: string): Value | undefined {
  const f = v.type!.field(name);
  if (!f) return undefined;
  return makeValue(f.type, (v.raw as Record<string, unknown>)[name]);
}

/** A method found on a value: call it with the receiver's JavaScript value as `this`. */
export interface BoundMethod {
  readonly method: Method;
  readonly receiver: unknown;
  /** The method's type, as a func type (for checking and printing). */
  readonly type: GoType;
}

/** Finds a method by name, following Go's method-set rules (every value here is addressable). */
export function methodByName(v: Value, name: string): BoundMethod | undefined {
  if (!v.type) return undefined;
  if (v.kind === "interface") {
    const inner = indirectInterface(v);
    return inner.isValid() ? methodByName(inner, name) : undefined;
  }
  let m = methodOf(v.type, name, true);
  let receiver = v.raw;
  if (!m && v.kind === "pointer" && v.raw instanceof Ref) {
    m = methodOf(v.type.elem!, name, true);
    receiver = v.raw.value;
  }
  if (!m) return undefined;
  const sig = m.sig;
  return { method: m, receiver, type: funcOf(...sigArgs(sig)) };
}

function sigArgs(sig: Signature): [GoType[], GoType[], boolean] {
  const params = sig.variadic
    ? [...sig.params.slice(0, -1), sig.params[sig.params.length - 1]!.elem!]
    : [...sig.params];
  return [params, [...sig.results], sig.variadic];
}

/**
 * The JavaScript value to hand to a function: numbers, strings, booleans, objects as they are,
 * interfaces unwrapped, a nil interface as undefined, a nil pointer, map, slice or func as null.
 */
export function toJs(v: Value): unknown {
  if (!v.isValid()) return undefined;
  if (v.kind === "interface") {
    const inner = indirectInterface(v);
    return inner.isValid() ? toJs(inner) : undefined;
  }
  if (v.type === REFLECT_VALUE) return v.raw;
  return v.raw;
}
