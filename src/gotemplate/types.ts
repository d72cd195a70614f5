/**
 * Go's types, as far as templates see them: kinds, names as reflect's Type.String() writes them
 * (they appear in Go's error messages), method sets, and the assignability and conversion rules
 * the executor applies when it passes an argument to a function.
 */

export type Kind =
  | "bool"
  | "int"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "uintptr"
  | "float32"
  | "float64"
  | "complex64"
  | "complex128"
  | "string"
  | "slice"
  | "array"
  | "map"
  | "struct"
  | "pointer"
  | "interface"
  | "func"
  | "chan";

export interface Field {
  readonly name: string;
  readonly type: GoType;
}

export interface Signature {
  readonly params: readonly GoType[];
  /** The last parameter is `...T`; its type in `params` is the slice type `[]T`. */
  readonly variadic: boolean;
  readonly results: readonly GoType[];
}

/**
 * A method of a named type. `fn` runs with `this` bound to the receiver's JavaScript value (the
 * struct object, or null for a nil pointer receiver) and gets its arguments as JavaScript values.
 */
export interface Method {
  readonly name: string;
  readonly sig: Signature;
  /** Declared on *T: not in the method set of a T value that cannot be addressed. */
  readonly pointerReceiver: boolean;
  readonly fn: (...args: never[]) => unknown;
}

export class GoType {
  /** Fields of a struct, in declaration order; filled in after creation so types can refer to themselves. */
  fields: Field[] = [];
  readonly methods = new Map<string, Method>();
  /** For a non-empty interface: the methods a value must have to satisfy it. */
  interfaceMethods: readonly string[] = [];

  constructor(
    readonly kind: Kind,
    /** Package-qualified name of a named type ("time.Time"), or undefined for a type literal. */
    readonly name?: string,
    readonly elem?: GoType,
    readonly key?: GoType,
    readonly length?: number,
    readonly sig?: Signature,
  ) {}

  toString(): string {
    if (this.name !== undefined) return this.name;
    switch (this.kind) {
      case "slice":
        return `[]${this.elem}`;
      case "array":
        return `[${this.length}]${this.elem}`;
      case "pointer":
        return `*${this.elem}`;
      case "map":
        return `map[${this.key}]${this.elem}`;
      case "chan":
        return `chan ${this.elem}`;
      case "interface":
        return this.interfaceMethods.length === 0
          ? "interface {}"
          : `interface { ${this.interfaceMethods.map((m) => `${m}()`).join("; ")} }`;
      case "struct":
        return this.fields.length === 0
          ? "struct {}"
          : `struct { ${this.fields.map((f) => `${f.name} ${f.type}`).join("; ")} }`;
      case "func":
        return funcString(this.sig!);
      default:
        return this.kind;
    }
  }

  field(name: string): Field | undefined {
    return this.fields.find((f) => f.name === name);
  }
}

function funcString(sig: Signature): string {
  const params = sig.params.map((p, i) =>
    sig.variadic && i === sig.params.length - 1 ? `...${p.elem}` : String(p),
  );
  const results =
    sig.results.length === 0
      ? ""
      : sig.results.length === 1
        ? ` ${sig.results[0]}`
        : ` (${sig.results.join(", ")})`;
  return `func(${params.join(", ")})${results}`;
}

const basic = (kind: Kind) => new GoType(kind);

export const BOOL = basic("bool");
export const INT = basic("int");
export const INT8 = basic("int8");
export const INT16 = basic("int16");
export const INT32 = basic("int32");
export const INT64 = basic("int64");
export const UINT = basic("uint");
export const UINT8 = basic("uint8");
export const UINT16 = basic("uint16");
export const UINT32 = basic("uint32");
export const UINT64 = basic("uint64");
export const UINTPTR = basic("uintptr");
export const FLOAT32 = basic("float32");
export const FLOAT64 = basic("float64");
export const COMPLEX64 = basic("complex64");
export const COMPLEX128 = basic("complex128");
export const STRING = basic("string");
/** interface{} (any). */
export const ANY = new GoType("interface");

/** Go's builtin error interface. */
export const ERROR = new GoType("interface", "error");
ERROR.interfaceMethods = ["Error"];

/** fmt.Stringer. */
export const STRINGER = new GoType("interface", "fmt.Stringer");
STRINGER.interfaceMethods = ["String"];

/**
 * reflect.Value: a function parameter of this type gets the executor's own Value, untouched, and a
 * result of this type is taken as that Value (how Go's builtins see and return arbitrary values).
 */
export const REFLECT_VALUE = new GoType("struct", "reflect.Value");

// Type literals are memoized by their components, so that identity is object identity: []T of
// one T is always one object. Weak maps, so that the types inferred for data do not outlive it.
const slices = new WeakMap<GoType, GoType>();
const pointers = new WeakMap<GoType, GoType>();
const chans = new WeakMap<GoType, GoType>();
const arrays = new WeakMap<GoType, Map<number, GoType>>();
const maps = new WeakMap<GoType, WeakMap<GoType, GoType>>();

function memoOne(cache: WeakMap<GoType, GoType>, elem: GoType, make: () => GoType): GoType {
  let t = cache.get(elem);
  if (!t) {
    t = make();
    cache.set(elem, t);
  }
  return t;
}

export function sliceOf(elem: GoType): GoType {
  return memoOne(slices, elem, () => new GoType("slice", undefined, elem));
}

export function arrayOf(length: number, elem: GoType): GoType {
  let byLength = arrays.get(elem);
  if (!byLength) {
    byLength = new Map();
    arrays.set(elem, byLength);
  }
  let t = byLength.get(length);
  if (!t) {
    t = new GoType("array", undefined, elem, undefined, length);
    byLength.set(length, t);
  }
  return t;
}

export function pointerTo(elem: GoType): GoType {
  return memoOne(pointers, elem, () => new GoType("pointer", undefined, elem));
}

export function mapOf(key: GoType, elem: GoType): GoType {
  let byElem = maps.get(key);
  if (!byElem) {
    byElem = new WeakMap();
    maps.set(key, byElem);
  }
  return memoOne(byElem, elem, () => new GoType("map", undefined, elem, key));
}

export function chanOf(elem: GoType): GoType {
  return memoOne(chans, elem, () => new GoType("chan", undefined, elem));
}

// Function types are few (declared ones, and interface{}-only defaults): a plain map will do.
const funcs = new Map<string, GoType>();
const ids = new WeakMap<GoType, number>();
let nextId = 0;
function id(t: GoType): number {
  let n = ids.get(t);
  if (n === undefined) {
    n = nextId++;
    ids.set(t, n);
  }
  return n;
}

/** A function type; with `variadic`, the last parameter is given as its element type (`...T` as T). */
export function funcOf(params: readonly GoType[], results: readonly GoType[], variadic = false): GoType {
  const ps = variadic ? [...params.slice(0, -1), sliceOf(params[params.length - 1]!)] : [...params];
  const sig: Signature = { params: ps, variadic, results: [...results] };
  const key = `${ps.map(id).join(",")}${variadic ? "..." : ""}->${results.map(id).join(",")}`;
  let t = funcs.get(key);
  if (!t) {
    t = new GoType("func", undefined, undefined, undefined, undefined, sig);
    funcs.set(key, t);
  }
  return t;
}

/** An unnamed struct type (`struct { a int; b string }`). */
export function structOf(fields: readonly Field[]): GoType {
  const t = new GoType("struct");
  t.fields = [...fields];
  return t;
}

/** A named type (`type T struct {...}`, `type S []string`): distinct from every other type. */
export function named(name: string, underlying: GoType): GoType {
  const t = new GoType(
    underlying.kind,
    name,
    underlying.elem,
    underlying.key,
    underlying.length,
    underlying.sig,
  );
  t.fields = underlying.fields;
  t.interfaceMethods = underlying.interfaceMethods;
  return t;
}

/** An interface type that requires the named methods. */
export function interfaceOf(name: string | undefined, methods: readonly string[]): GoType {
  const t = new GoType("interface", name);
  t.interfaceMethods = [...methods];
  return t;
}

export function isIntKind(k: Kind | "invalid"): boolean {
  return k === "int" || k === "int8" || k === "int16" || k === "int32" || k === "int64";
}

export function isUintKind(k: Kind | "invalid"): boolean {
  return (
    k === "uint" || k === "uint8" || k === "uint16" || k === "uint32" || k === "uint64" || k === "uintptr"
  );
}

export function isFloatKind(k: Kind | "invalid"): boolean {
  return k === "float32" || k === "float64";
}

export function isComplexKind(k: Kind | "invalid"): boolean {
  return k === "complex64" || k === "complex128";
}

/** Kinds whose zero value is nil, so that an untyped nil can be assigned to them. */
export function canBeNil(t: GoType): boolean {
  switch (t.kind) {
    case "chan":
    case "func":
    case "interface":
    case "map":
    case "pointer":
    case "slice":
      return true;
    default:
      return t === REFLECT_VALUE;
  }
}

/** The methods of a type, with Go's method-set rule: a value of T has T's, a *T has T's and *T's. */
export function methodOf(t: GoType, name: string, addressable: boolean): Method | undefined {
  if (t.kind === "pointer" && t.name === undefined && t.elem) return t.elem.methods.get(name);
  const m = t.methods.get(name);
  if (m?.pointerReceiver && !addressable) return undefined;
  return m;
}

export function implementsInterface(t: GoType, iface: GoType): boolean {
  return iface.interfaceMethods.every((m) => methodOf(t, m, false) !== undefined);
}

function identicalUnderlying(a: GoType, b: GoType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "slice":
    case "pointer":
    case "chan":
      return a.elem === b.elem;
    case "array":
      return a.elem === b.elem && a.length === b.length;
    case "map":
      return a.key === b.key && a.elem === b.elem;
    case "struct":
    case "func":
    case "interface":
      return false;
    default:
      return true;
  }
}

/** Go's assignability: identical types, an interface the value implements, or the same underlying literal. */
export function assignableTo(v: GoType, t: GoType): boolean {
  if (v === t) return true;
  if (t.kind === "interface") return implementsInterface(v, t);
  if (v.name !== undefined && t.name !== undefined) return false;
  return identicalUnderlying(v, t);
}
