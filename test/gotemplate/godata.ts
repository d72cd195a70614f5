/**
 * The data of Go's text/template exec tests (exec_test.go's T, U, V, W, S, I and tVal), modelled
 * with the module's Go value helpers so that the executor sees the same types Go's does.
 */
import { sprint, sprintf, sprintln } from "../../src/gotemplate/fmt.js";
import {
  ANY,
  arrayOf,
  BOOL,
  COMPLEX128,
  chanOf,
  ERROR,
  FLOAT64,
  funcOf,
  type GoType,
  INT,
  INT8,
  INT16,
  INT32,
  INT64,
  interfaceOf,
  mapOf,
  named,
  pointerTo,
  REFLECT_VALUE,
  STRING,
  STRINGER,
  sliceOf,
  structOf,
  UINT,
  UINT8,
  UINT16,
  UINT32,
  UINT64,
  UINTPTR,
} from "../../src/gotemplate/types.js";
import {
  Complex,
  declareMethods,
  declareStruct,
  goFunc,
  indirectInterface,
  Ref,
  SliceHeader,
  toValue,
  typed,
  type Value,
} from "../../src/gotemplate/values.js";

export class U {
  constructor(public V: string) {}
  TrueFalse(b: boolean): string {
    return b ? "true" : "";
  }
}
export const U_TYPE = declareStruct(
  U,
  "template.U",
  { V: STRING },
  { TrueFalse: { type: funcOf([BOOL], [STRING]) } },
);

export class V {
  constructor(public j = 0) {}
  String(this: V | null): string {
    return this === null ? "nilV" : `<${this.j}>`;
  }
}
export const V_TYPE = declareStruct(V, "template.V", { j: INT }, { String: { type: funcOf([], [STRING]) } });

export class W {
  constructor(public k = 0) {}
  Error(this: W | null): string {
    return this === null ? "nilW" : `[${this.k}]`;
  }
}
export const W_TYPE = declareStruct(W, "template.W", { k: INT }, { Error: { type: funcOf([], [STRING]) } });

/** bytes.Buffer, for its String method. */
export class Buffer {
  constructor(private readonly text: string) {}
  String(): string {
    return this.text;
  }
}
declareStruct(Buffer, "bytes.Buffer", {}, { String: { type: funcOf([], [STRING]) } });

/** type I interface { Method0() string } */
export const I_TYPE = interfaceOf("template.I", ["Method0"]);

/** type S []string, with a Method0 on the value. */
export const S_TYPE = declareMethods(named("template.S", sliceOf(STRING)), {
  Method0: { type: funcOf([], [STRING]), fn: () => "M0" },
});

export class T {
  [field: string]: unknown;

  Method0(): string {
    return "M0";
  }
  Method1(a: number): number {
    return a;
  }
  Method2(a: number, b: string): string {
    return `Method2: ${a} ${b}`;
  }
  Method3(v: unknown): string {
    return sprintf("Method3: %v", [toValue(v)]);
  }
  Copy(this: T): T {
    return Object.assign(new T(), this);
  }
  MAdd(a: number, b: number[]): number[] {
    return b.map((x) => x + a);
  }
  MyError(error: boolean): boolean {
    if (error) throw new Error("my error");
    return false;
  }
  GetU(this: T): unknown {
    return this.U;
  }
}

export const T_TYPE = declareStruct(
  T,
  "template.T",
  {
    True: BOOL,
    I: INT,
    U16: UINT16,
    X: STRING,
    S: STRING,
    FloatZero: FLOAT64,
    ComplexZero: COMPLEX128,
    U: pointerTo(U_TYPE),
    V0: V_TYPE,
    V1: pointerTo(V_TYPE),
    V2: pointerTo(V_TYPE),
    W0: W_TYPE,
    W1: pointerTo(W_TYPE),
    W2: pointerTo(W_TYPE),
    SI: sliceOf(INT),
    SICap: sliceOf(INT),
    SIEmpty: sliceOf(INT),
    SB: sliceOf(BOOL),
    AI: arrayOf(3, INT),
    MSI: mapOf(STRING, INT),
    MSIone: mapOf(STRING, INT),
    MSIEmpty: mapOf(STRING, INT),
    MXI: mapOf(ANY, INT),
    MII: mapOf(INT, INT),
    MI32S: mapOf(INT32, STRING),
    MI64S: mapOf(INT64, STRING),
    MUI32S: mapOf(UINT32, STRING),
    MUI64S: mapOf(UINT64, STRING),
    MI8S: mapOf(INT8, STRING),
    MUI8S: mapOf(UINT8, STRING),
    SMSI: sliceOf(mapOf(STRING, INT)),
    Empty0: ANY,
    Empty1: ANY,
    Empty2: ANY,
    Empty3: ANY,
    Empty4: ANY,
    NonEmptyInterface: I_TYPE,
    NonEmptyInterfacePtS: pointerTo(I_TYPE),
    NonEmptyInterfaceNil: I_TYPE,
    NonEmptyInterfaceTypedNil: I_TYPE,
    Str: STRINGER,
    Err: ERROR,
    PI: pointerTo(INT),
    PS: pointerTo(STRING),
    PSI: pointerTo(sliceOf(INT)),
    NIL: pointerTo(INT),
    BinaryFunc: funcOf([STRING, STRING], [STRING]),
    VariadicFunc: funcOf([STRING], [STRING], true),
    VariadicFuncInt: funcOf([INT, STRING], [STRING], true),
    NilOKFunc: funcOf([pointerTo(INT)], [BOOL]),
    ErrFunc: funcOf([], [STRING, ERROR]),
    PanicFunc: funcOf([], [STRING]),
    TooFewReturnCountFunc: funcOf([], []),
    TooManyReturnCountFunc: funcOf([], [STRING, ERROR, INT]),
    InvalidReturnTypeFunc: funcOf([], [STRING, BOOL]),
    unexported: INT,
  },
  {
    Method0: { type: funcOf([], [STRING]) },
    Method1: { type: funcOf([INT], [INT]) },
    Method2: { type: funcOf([UINT16, STRING], [STRING]) },
    Method3: { type: funcOf([ANY], [STRING]) },
    MAdd: { type: funcOf([INT, sliceOf(INT)], [sliceOf(INT)]) },
    MyError: { type: funcOf([BOOL], [BOOL, ERROR]) },
  },
);
// Methods whose result types refer to the types above.
declareMoreMethods();

function declareMoreMethods(): void {
  const copy = T.prototype.Copy as unknown as (...a: never[]) => unknown;
  const getU = T.prototype.GetU as unknown as (...a: never[]) => unknown;
  T_TYPE.methods.set("Copy", {
    name: "Copy",
    sig: funcOf([], [pointerTo(T_TYPE)]).sig!,
    pointerReceiver: true,
    fn: copy,
  });
  T_TYPE.methods.set("GetU", {
    name: "GetU",
    sig: funcOf([], [pointerTo(U_TYPE)]).sig!,
    pointerReceiver: true,
    fn: getU,
  });
}

function makeT(fields: Record<string, unknown>): T {
  return Object.assign(new T(), fields);
}

export const tVal = makeT({
  True: true,
  I: 17,
  U16: 16,
  X: "x",
  S: "xyz",
  U: new U("v"),
  V0: new V(6666),
  V1: new V(7777),
  V2: null,
  W0: new W(888),
  W1: new W(999),
  W2: null,
  SI: [3, 4, 5],
  SICap: new SliceHeader(Array(10).fill(0), 0, 5, 10),
  AI: [3, 4, 5],
  SB: [true, false],
  MSI: { one: 1, two: 2, three: 3 },
  MSIone: { one: 1 },
  MXI: new Map([["one", 1]]),
  MII: new Map([[1, 1]]),
  MI32S: new Map([
    [1, "one"],
    [2, "two"],
  ]),
  MI64S: new Map([
    [2, "i642"],
    [3, "i643"],
  ]),
  MUI32S: new Map([
    [2, "u322"],
    [3, "u323"],
  ]),
  MUI64S: new Map([
    [2, "ui642"],
    [3, "ui643"],
  ]),
  MI8S: new Map([
    [2, "i82"],
    [3, "i83"],
  ]),
  MUI8S: new Map([
    [2, "u82"],
    [3, "u83"],
  ]),
  SMSI: [
    { one: 1, two: 2 },
    { eleven: 11, twelve: 12 },
  ],
  Empty1: 3,
  Empty2: "empty2",
  Empty3: [7, 8],
  Empty4: new U("UinEmpty"),
  NonEmptyInterface: makeT({ X: "x" }),
  NonEmptyInterfacePtS: new Ref(typed(S_TYPE, ["a", "b"])),
  NonEmptyInterfaceTypedNil: typed(pointerTo(T_TYPE), null),
  Str: new Buffer("foozle"),
  Err: new Error("erroozle"),
  PI: new Ref(23),
  PS: new Ref("a string"),
  PSI: new Ref([21, 22, 23]),
  NIL: null,
  BinaryFunc: (a: string, b: string) => `[${a}=${b}]`,
  VariadicFunc: (...s: string[]) => `<${s.join("+")}>`,
  VariadicFuncInt: (a: number, ...s: string[]) => `${a}=<${s.join("+")}>`,
  NilOKFunc: (s: unknown) => s === null || s === undefined,
  ErrFunc: () => "bla",
  PanicFunc: () => {
    throw new Error("test panic");
  },
  TooFewReturnCountFunc: () => undefined,
  TooManyReturnCountFunc: () => "",
  InvalidReturnTypeFunc: () => "",
});

const sig = (params: GoType[], results: GoType[], variadic = false) => funcOf(params, results, variadic);

/** exec_test.go's testExecute function map. */
export const FUNCS = {
  add: goFunc(sig([INT], [INT], true), (...args: number[]) => args.reduce((a, b) => a + b, 0)),
  count: goFunc(sig([INT], [chanOf(STRING)]), (n: number) =>
    n === 0 ? null : Array.from({ length: n }, (_, i) => "abcdefghijklmnop"[i]),
  ),
  dddArg: goFunc(sig([INT, STRING], [STRING], true), (a: number, ...b: string[]) =>
    sprintln([toValue(a), toValue(typed(sliceOf(STRING), b))]),
  ),
  die: goFunc(sig([], [BOOL]), () => {
    throw new Error("die");
  }),
  echo: goFunc(sig([REFLECT_VALUE], [REFLECT_VALUE]), (v: Value) => v),
  makemap: goFunc(sig([STRING], [mapOf(STRING, STRING)], true), (...arg: string[]) => {
    if (arg.length % 2 !== 0) throw new Error("bad makemap");
    const m: Record<string, string> = {};
    for (let i = 0; i < arg.length; i += 2) m[arg[i]!] = arg[i + 1]!;
    return m;
  }),
  mapOfThree: goFunc(sig([], [ANY]), () => typed(mapOf(STRING, INT), { three: 3 })),
  oneArg: goFunc(sig([STRING], [STRING]), (a: string) => `oneArg=${a}`),
  returnInt: goFunc(sig([], [INT]), () => 7),
  stringer: goFunc(sig([STRINGER], [STRING]), (s: { String(): string }) => s.String()),
  twoArgs: goFunc(sig([STRING, STRING], [STRING]), (a: string, b: string) => `twoArgs=${a}${b}`),
  typeOf: goFunc(sig([REFLECT_VALUE], [STRING]), (v: Value) => sprintf("%T", [indirectInterface(v)])),
  valueString: goFunc(sig([STRING], [STRING]), () => "value is ignored"),
  vfunc: goFunc(sig([V_TYPE, pointerTo(V_TYPE)], [STRING]), () => "vfunc"),
  zeroArgs: goFunc(sig([], [STRING]), () => "zeroArgs"),
};

/** iter.Seq[int] of n values, and iter.Seq2[int, int] of (i, i+1). */
export function fVal1(n: number): unknown {
  return typed(funcOf([funcOf([INT], [BOOL])], []), (yieldFn: (v: number) => boolean) => {
    for (let v = 0; v < n; v++) if (!yieldFn(v)) break;
  });
}

export function fVal2(n: number): unknown {
  return typed(funcOf([funcOf([INT, INT], [BOOL])], []), (yieldFn: (k: number, v: number) => boolean) => {
    for (let v = 0; v < n; v++) if (!yieldFn(v, v + 1)) break;
  });
}

/** The data values the exec table refers to by name. */
export const DATA: Record<string, unknown> = {
  tVal,
  tZero: typed(T_TYPE, new T()),
  nil: undefined,
  int0: 0,
  int13: 13,
  int123: 123,
  uint14: typed(UINT, 14),
  float15_1: 15.1,
  true: true,
  complex: typed(COMPLEX128, new Complex(16.2, -17)),
  hello: "hello",
  sliceNeg: [-1, -2, -3],
  mapTwo: { two: 22 },
  anonStruct: typed(
    structOf([
      { name: "a", type: INT },
      { name: "b", type: STRING },
    ]),
    { a: 7, b: "seven" },
  ),
  tSliceOfNil: typed(sliceOf(pointerTo(T_TYPE)), [null]),
  stringerMap: typed(mapOf(STRING, ANY), { S: new Buffer("foozle") }),
  itdBeNice: "It'd be nice.",
  iValPtr: typed(pointerTo(I_TYPE), new Ref(tVal)),
  causeMap: { cause: "neglect" },
  runeDot: typed(INT32, 46),
  runeE: typed(INT32, 101),
  runeP: typed(INT32, 80),
  seq1of2: fVal1(2),
  seq1of0: fVal1(0),
  seq2of2: fVal2(2),
  seq2of0: fVal2(0),
  int8_5: typed(INT8, 5),
  int16_5: typed(INT16, 5),
  int32_5: typed(INT32, 5),
  int64_5: typed(INT64, 5),
  int_5: 5,
  uint8_5: typed(UINT8, 5),
  uint16_5: typed(UINT16, 5),
  uint32_5: typed(UINT32, 5),
  uint64_5: typed(UINT64, 5),
  uint_5: typed(UINT, 5),
  uintptr_5: typed(UINTPTR, 5),
  uintptr_0: typed(UINTPTR, 0),
};

export { sprint };
