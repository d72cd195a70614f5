/**
 * The executor of Go's text/template (text/template/exec.go): walks a parse tree against a value,
 * evaluating fields, methods, functions and pipelines with Go's rules, and reports errors in Go's
 * words at the node where they happened ("template: NAME:LINE:COL: executing "NAME" at <NODE>: …").
 */
import { sprint } from "./fmt.js";
import { BUILTINS, type Builtin, GoError, isTrue, prepareArg, printableValue, truth } from "./funcs.js";
import type {
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from "./nodes.js";
import { quote } from "./strconv.js";
import type { Template } from "./template.js";
import {
  ANY,
  assignableTo,
  BOOL,
  COMPLEX128,
  canBeNil,
  FLOAT64,
  type GoType,
  INT,
  isComplexKind,
  isFloatKind,
  isIntKind,
  isUintKind,
  pointerTo,
  REFLECT_VALUE,
  type Signature,
  STRING,
} from "./types.js";
import {
  type BoundMethod,
  elem,
  fieldByName,
  indirect,
  indirectInterface,
  isExported,
  makeValue,
  mapEntries,
  mapIndex,
  methodByName,
  Ref,
  sliceItems,
  toJs,
  Value,
  zeroValue,
} from "./values.js";

export const MAX_EXEC_DEPTH = 100000;

/** What a missing map key gives: nothing ("<no value>"), the element's zero value, or an error. */
export type MissingKey = "invalid" | "zero" | "error";

/** A function the executor can call: builtins take Values, the others JavaScript values. */
export interface Callable {
  readonly type: GoType;
  readonly builtin: boolean;
  invoke(args: Value[]): Value;
}

/** The pipeline's previous value is absent (the first command of a pipeline). */
const MISSING = new Value(STRING, Symbol("missing"));

function isMissing(v: Value): boolean {
  return v === MISSING;
}

class Break {}
class Continue {}

/** Thrown by State.errorf; Template.execute turns it into a TemplateExecError. */
export class ExecStop {
  constructor(
    readonly message: string,
    readonly templateName: string,
    readonly cause?: unknown,
  ) {}
}

interface Variable {
  name: string;
  value: Value;
}

/** Arguments as a JavaScript function gets them: Values for reflect.Value parameters, else JS values. */
function jsArgs(sig: Signature, args: readonly Value[]): unknown[] {
  return args.map((a, i) => {
    const last = sig.params.length - 1;
    const p = sig.variadic && i >= last ? sig.params[last]!.elem : sig.params[Math.min(i, last)];
    return p === REFLECT_VALUE ? a : toJs(a);
  });
}

/** A JavaScript function of the given Go func type, as the executor calls it. */
export function callableOf(fn: unknown, type: GoType): Callable {
  const sig = type.sig!;
  return {
    type,
    builtin: false,
    invoke: (args) =>
      makeValue(sig.results[0] ?? ANY, (fn as (...a: unknown[]) => unknown)(...jsArgs(sig, args))),
  };
}

function methodCallable(m: BoundMethod): Callable {
  const sig = m.method.sig;
  const fn = m.method.fn as (...a: unknown[]) => unknown;
  return {
    type: m.type,
    builtin: false,
    invoke: (args) => makeValue(sig.results[0] ?? ANY, fn.apply(m.receiver, jsArgs(sig, args))),
  };
}

function builtinCallable(b: Builtin): Callable {
  return { type: b.type, builtin: true, invoke: (args) => b.fn(...args) };
}

const BUILTIN_CALLABLES = new Map(Object.entries(BUILTINS).map(([k, b]) => [k, builtinCallable(b)]));

/** The message of whatever a function threw, as Go's safeCall reports a returned error or a panic. */
function errorMessage(e: unknown, nilReceiver: boolean): string {
  if (e instanceof TypeError && nilReceiver)
    return "runtime error: invalid memory address or nil pointer dereference";
  if (e instanceof Error) return e.message;
  return String(e);
}

/** goodFunc: one result, or two whose second is an error. */
function goodFunc(name: string, t: GoType): string | undefined {
  const results = t.sig!.results;
  if (results.length === 1) return undefined;
  if (results.length === 2 && String(results[1]) === "error") return undefined;
  if (results.length === 2) {
    return `invalid function signature for ${name}: second return value should be error; is ${results[1]}`;
  }
  return `function ${name} has ${results.length} return values; should be 1 or 2`;
}

export { goodFunc };

/** One execution: the output, the variables in scope, and the node being evaluated (for errors). */
export class State {
  private node: Node | undefined;

  constructor(
    private tmpl: Template,
    private readonly write: (s: string) => void,
    private vars: Variable[],
    private readonly depth = 0,
  ) {}

  // ---- errors

  private at(node: Node): void {
    this.node = node;
  }

  errorf(message: string, cause?: unknown): never {
    const name = this.tmpl.name;
    if (!this.node) throw new ExecStop(`template: ${name}: ${message}`, name, cause);
    const { location, context } = this.tmpl.tree!.errorContext(this.node);
    throw new ExecStop(`template: ${location}: executing "${name}" at <${context}>: ${message}`, name, cause);
  }

  // ---- variables

  private push(name: string, value: Value): void {
    this.vars.push({ name, value });
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: Value): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking

  walk(dot: Value, node: Node): void {
    this.at(node);
    switch (node.type) {
      case "action": {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case "break":
        throw new Break();
      case "continue":
        throw new Continue();
      case "comment":
        return;
      case "if":
      case "with":
        this.walkIfOrWith(node, dot);
        return;
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "range":
        this.walkRange(dot, node);
        return;
      case "template":
        this.walkTemplate(dot, node);
        return;
      case "text":
        this.write(node.text);
        return;
      default:
        this.errorf(`unknown node: ${node}`);
    }
  }

  private walkIfOrWith(node: BranchNode, dot: Value): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const { truth: t, ok } = isTrue(indirectInterface(val));
      if (!ok) this.errorf(`if/with can't use ${sprint([val])}`);
      if (t) this.walk(node.type === "with" ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: Value, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = indirect(this.evalPipeline(dot, r.pipe)).value;
      const mark = this.mark();
      const decl = r.pipe.decl;
      const oneIteration = (index: Value, el: Value): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : el);
          else this.setTopVar(1, el);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, el);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(el, r.list);
        } catch (e) {
          if (!(e instanceof Continue)) throw e;
        } finally {
          this.pop(mark);
        }
      };
      if (this.rangeOver(val, r, oneIteration)) return;
      if (r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (!(e instanceof Break)) throw e;
    } finally {
      this.pop(outer);
    }
  }

  /** Runs the iterations; false when there were none (so the {{else}} runs). */
  private rangeOver(val: Value, r: BranchNode, one: (index: Value, el: Value) => void): boolean {
    const k = val.kind;
    if (k === "array" || k === "slice") {
      const items = sliceItems(val);
      items.forEach((el, i) => {
        one(new Value(INT, i), el);
      });
      return items.length > 0;
    }
    if (isIntKind(k) || isUintKind(k)) {
      if (r.pipe.decl.length > 1)
        this.errorf(`can't use ${sprint([val])} to iterate over more than one variable`);
      const n = Number(val.raw);
      for (let i = 0; i < n; i++) one(new Value(val.type, i), new Value(val.type, i));
      return n > 0;
    }
    if (k === "map") {
      const entries = mapEntries(val);
      for (const [key, el] of entries) one(key, el);
      return entries.length > 0;
    }
    if (k === "chan") {
      if (val.isNil()) return false;
      let i = 0;
      for (const x of val.raw as Iterable<unknown>) one(new Value(INT, i++), makeValue(val.type!.elem!, x));
      return i > 0;
    }
    if (k === "func") return this.rangeOverFunc(val, r, one);
    if (k === "invalid") return false;
    this.errorf(`range can't iterate over ${sprint([val])}`);
  }

  /** Go 1.23's range over iterator functions: func(yield func(V) bool) and func(yield func(K, V) bool). */
  private rangeOverFunc(val: Value, r: BranchNode, one: (index: Value, el: Value) => void): boolean {
    const sig = val.type!.sig!;
    const yieldType = sig.params[0];
    const isSeq =
      sig.params.length === 1 &&
      sig.results.length === 0 &&
      yieldType?.kind === "func" &&
      yieldType.sig!.results.length === 1 &&
      yieldType.sig!.results[0] === BOOL;
    const arity = isSeq ? yieldType!.sig!.params.length : 0;
    if (!isSeq || arity < 1 || arity > 2 || val.isNil()) {
      this.errorf(`range can't iterate over ${sprint([val])}`);
    }
    const params = yieldType!.sig!.params;
    if (arity === 1 && r.pipe.decl.length > 1) {
      this.errorf(`can't use ${sprint([val])} iterate over more than one variable`);
    }
    let run = false;
    const yieldFn = (...xs: unknown[]): boolean => {
      run = true;
      if (arity === 1) one(Value.INVALID, makeValue(params[0]!, xs[0]));
      else {
        const a = makeValue(params[0]!, xs[0]);
        const b = makeValue(params[1]!, xs[1]);
        if (r.pipe.decl.length > 1) one(a, b);
        else one(b, a);
      }
      return true;
    };
    (val.raw as (y: typeof yieldFn) => void)(yieldFn);
    return run;
  }

  private walkTemplate(dot: Value, t: TemplateNode): void {
    this.at(t);
    const tmpl = this.tmpl.lookup(t.name);
    if (!tmpl) this.errorf(`template ${quoteName(t.name)} not defined`);
    if (this.depth === MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    dot = this.evalPipeline(dot, t.pipe);
    const state = new State(tmpl, this.write, [{ name: "$", value: dot }], this.depth + 1);
    try {
      state.walk(dot, tmpl.tree!.root!);
    } catch (e) {
      // JavaScript's stack ends long before Go's depth limit: report it as Go does.
      if (isStackOverflow(e)) {
        this.at(t);
        this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
      }
      throw e;
    }
  }

  // ---- evaluation

  evalPipeline(dot: Value, pipe: PipeNode | undefined): Value {
    if (!pipe) return Value.INVALID;
    this.at(pipe);
    let value = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value.kind === "interface" && value.type!.interfaceMethods.length === 0) value = elem(value);
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.push(v.ident[0]!, value);
    }
    return value;
  }

  private notAFunction(args: readonly Node[] | undefined, final: Value): void {
    if ((args && args.length > 1) || !isMissing(final)) {
      this.errorf(`can't give argument to non-function ${args?.[0]}`);
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Value): Value {
    const first = cmd.args[0]!;
    switch (first.type) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return new Value(BOOL, first.value);
      case "dot":
        return dot;
      case "nil":
        this.errorf("nil is not a command");
        break;
      case "number":
        return this.idealConstant(first);
      case "string":
        return new Value(STRING, first.text);
    }
    this.errorf(`can't evaluate command ${quoteName(String(first))}`);
  }

  private idealConstant(c: NumberNode): Value {
    this.at(c);
    if (c.isComplex) return new Value(COMPLEX128, c.complex128);
    if (c.isFloat && !isHexInt(c.text) && !c.text.startsWith("'") && /[.eEpP]/.test(c.text)) {
      return new Value(FLOAT64, c.float64);
    }
    if (c.isInt) return new Value(INT, intRaw(c.int64));
    if (c.isUint) this.errorf(`${c.text} overflows int`);
    return Value.INVALID;
  }

  private evalFieldNode(
    dot: Value,
    field: FieldNode,
    args: readonly Node[] | undefined,
    final: Value,
  ): Value {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(
    dot: Value,
    chain: ChainNode,
    args: readonly Node[] | undefined,
    final: Value,
  ): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf("internal error: no fields in evalChainNode");
    if (chain.node.type === "nil") this.errorf(`indirection through explicit nil in ${chain}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(
    dot: Value,
    variable: VariableNode,
    args: readonly Node[] | undefined,
    final: Value,
  ): Value {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: Value,
    receiver: Value,
    node: Node,
    ident: readonly string[],
    args: readonly Node[] | undefined,
    final: Value,
  ): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++)
      receiver = this.evalField(dot, ident[i]!, node, undefined, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalFunction(
    dot: Value,
    node: IdentifierNode,
    cmd: Node,
    args: readonly Node[] | undefined,
    final: Value,
  ): Value {
    this.at(node);
    const name = node.ident;
    const fn = this.tmpl.findFunction(name) ?? BUILTIN_CALLABLES.get(name);
    if (!fn) this.errorf(`${quoteName(name)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, name, args, final);
  }

  private evalField(
    dot: Value,
    fieldName: string,
    node: Node,
    args: readonly Node[] | undefined,
    final: Value,
    receiver: Value,
  ): Value {
    if (!receiver.isValid()) {
      if (this.tmpl.missingKey === "error") this.errorf(`nil data; no entry for key ${quoteName(fieldName)}`);
      return Value.INVALID;
    }
    const typ = receiver.type!;
    const ind = indirect(receiver);
    receiver = ind.value;
    if (receiver.kind === "interface" && ind.isNil) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    const method = methodByName(receiver, fieldName);
    if (method) {
      return this.evalCall(
        dot,
        methodCallable(method),
        node,
        fieldName,
        args,
        final,
        method.receiver === null,
      );
    }
    const hasArgs = (args !== undefined && args.length > 1) || !isMissing(final);
    switch (receiver.kind) {
      case "struct": {
        const f = receiver.type!.field(fieldName);
        if (f) {
          if (!isExported(fieldName))
            this.errorf(`${fieldName} is an unexported field of struct type ${typ}`);
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
          return fieldByName(receiver, fieldName)!;
        }
        break;
      }
      case "map": {
        const key = receiver.type!.key!;
        if (assignableTo(STRING, key)) {
          if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
          const result = mapIndex(receiver, new Value(STRING, fieldName));
          if (result) return result;
          switch (this.tmpl.missingKey) {
            case "zero":
              return zeroValue(receiver.type!.elem!);
            case "error":
              this.errorf(`map has no entry for key ${quoteName(fieldName)}`);
          }
          return Value.INVALID;
        }
        break;
      }
      case "pointer": {
        const etyp = receiver.type!.elem!;
        if (etyp.kind === "struct" && !etyp.field(fieldName)) break;
        if (ind.isNil) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
        break;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  private evalCall(
    dot: Value,
    fun: Callable,
    node: Node,
    name: string,
    allArgs: readonly Node[] | undefined,
    final: Value,
    nilReceiver = false,
  ): Value {
    const args = allArgs ? allArgs.slice(1) : [];
    const typ = fun.type;
    const sig = typ.sig!;
    let numIn = args.length;
    if (!isMissing(final)) numIn++;
    let numFixed = args.length;
    if (sig.variadic) {
      numFixed = sig.params.length - 1;
      if (numIn < numFixed) {
        this.errorf(
          `wrong number of args for ${name}: want at least ${sig.params.length - 1} got ${args.length}`,
        );
      }
    } else if (numIn !== sig.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${sig.params.length} got ${numIn}`);
    }
    const bad = goodFunc(name, typ);
    if (bad) this.errorf(bad);

    if (fun.builtin && (name === "and" || name === "or")) {
      let v = Value.INVALID;
      for (const arg of args) {
        v = this.evalArg(dot, REFLECT_VALUE, arg);
        if (truth(v) === (name === "or")) return v;
      }
      if (!isMissing(final)) v = this.validateType(final, REFLECT_VALUE);
      return v;
    }

    const argv: Value[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, sig.params[i], args[i]!));
    if (sig.variadic) {
      const argType = sig.params[sig.params.length - 1]!.elem!;
      for (; i < args.length; i++) argv.push(this.evalArg(dot, argType, args[i]!));
    }
    if (!isMissing(final)) {
      let t = sig.params[sig.params.length - 1]!;
      if (sig.variadic) t = numIn - 1 < numFixed ? sig.params[numIn - 1]! : t.elem!;
      argv.push(this.validateType(final, t));
    }

    let call: () => Value = () => fun.invoke(argv);
    if (fun.builtin && name === "call") {
      const calleeName = args.length === 0 ? `<${final.type} Value>` : String(args[0]);
      call = () => callBuiltin(calleeName, argv[0]!, argv.slice(1));
    }
    try {
      return call();
    } catch (e) {
      if (e instanceof ExecStop) throw e;
      if (isStackOverflow(e)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${errorMessage(e, nilReceiver)}`, e);
    }
  }

  private validateType(value: Value, typ: GoType | undefined): Value {
    if (!value.isValid()) {
      if (!typ || typ === REFLECT_VALUE) return value;
      if (canBeNil(typ)) return zeroValue(typ);
      this.errorf(`invalid value; expected ${typ}`);
    }
    if (!typ || typ === REFLECT_VALUE) return value;
    if (!assignableTo(value.type!, typ)) {
      if (value.kind === "interface" && !value.isNil()) {
        value = indirectInterface(value);
        if (assignableTo(value.type!, typ)) return value;
      }
      if (value.kind === "pointer" && assignableTo(value.type!.elem!, typ)) {
        value = elem(value);
        if (!value.isValid()) this.errorf(`dereference of nil pointer of type ${typ}`);
      } else if (assignableTo(pointerTo(value.type!), typ)) {
        value = new Value(pointerTo(value.type!), value.kind === "struct" ? value.raw : new Ref(value.raw));
      } else {
        this.errorf(`wrong type for value; expected ${typ}; got ${value.type}`);
      }
    }
    return value;
  }

  private evalArg(dot: Value, typ: GoType | undefined, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case "dot":
        return this.validateType(dot, typ);
      case "nil":
        if (typ && canBeNil(typ)) return typ === REFLECT_VALUE ? Value.INVALID : zeroValue(typ);
        this.errorf(`cannot assign nil to ${typ}`);
        break;
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case "variable":
        return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), typ);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), typ);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), typ);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, undefined, MISSING), typ);
    }
    const k = typ?.kind;
    if (typ === REFLECT_VALUE) return this.evalEmptyInterface(dot, n);
    if (k === "bool") {
      if (n.type === "bool") return new Value(typ, n.value);
      this.errorf(`expected bool; found ${n}`);
    }
    if (k && isComplexKind(k)) {
      if (n.type === "number" && n.isComplex) return new Value(typ, n.complex128);
      this.errorf(`expected complex; found ${n}`);
    }
    if (k && isFloatKind(k)) {
      if (n.type === "number" && n.isFloat) return new Value(typ, n.float64);
      this.errorf(`expected float; found ${n}`);
    }
    if (k && isIntKind(k)) {
      if (n.type === "number" && n.isInt) return new Value(typ, intRaw(n.int64));
      this.errorf(`expected integer; found ${n}`);
    }
    if (k === "interface" && typ!.interfaceMethods.length === 0) return this.evalEmptyInterface(dot, n);
    if (k === "string") {
      if (n.type === "string") return new Value(typ, n.text);
      this.errorf(`expected string; found ${n}`);
    }
    if (k && isUintKind(k)) {
      if (n.type === "number" && n.isUint) return new Value(typ, intRaw(n.uint64));
      this.errorf(`expected unsigned integer; found ${n}`);
    }
    this.errorf(`can't handle ${n} for arg of type ${typ}`);
  }

  private evalEmptyInterface(dot: Value, n: Node): Value {
    this.at(n);
    switch (n.type) {
      case "bool":
        return new Value(BOOL, n.value);
      case "dot":
        return dot;
      case "field":
        return this.evalFieldNode(dot, n, undefined, MISSING);
      case "identifier":
        return this.evalFunction(dot, n, n, undefined, MISSING);
      case "nil":
        this.errorf("evalEmptyInterface: nil (can't happen)");
        break;
      case "number":
        return this.idealConstant(n);
      case "string":
        return new Value(STRING, n.text);
      case "variable":
        return this.evalVariableNode(dot, n, undefined, MISSING);
      case "pipe":
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${n} to empty interface argument`);
  }

  private printValue(n: Node, v: Value): void {
    this.at(n);
    const p = printableValue(v);
    if (!p.ok) this.errorf(`can't print ${n} of type ${v.type}`);
    this.write(sprint([p.value]));
  }
}

/** The `call` builtin (Go 1.23+): calls fn with args, checked and converted like a template call. */
function callBuiltin(name: string, fnValue: Value, args: Value[]): Value {
  const fn = indirectInterface(fnValue);
  if (!fn.isValid()) throw new GoError("call of nil");
  const typ = fn.type!;
  if (typ.kind !== "func") throw new GoError(`non-function ${name} of type ${typ}`);
  const bad = goodFunc(name, typ);
  if (bad) throw new GoError(bad);
  const sig = typ.sig!;
  const numIn = sig.params.length;
  let dddType: GoType | undefined;
  if (sig.variadic) {
    if (args.length < numIn - 1) {
      throw new GoError(`wrong number of args for ${name}: got ${args.length} want at least ${numIn - 1}`);
    }
    dddType = sig.params[numIn - 1]!.elem!;
  } else if (args.length !== numIn) {
    throw new GoError(`wrong number of args for ${name}: got ${args.length} want ${numIn}`);
  }
  const argv = args.map((arg, i) => {
    const argType = !sig.variadic || i < numIn - 1 ? sig.params[i]! : dddType!;
    try {
      return prepareArg(indirectInterface(arg), argType);
    } catch (e) {
      throw new GoError(`arg ${i}: ${(e as Error).message}`);
    }
  });
  if (fn.isNil()) throw new GoError("call of nil");
  return callableOf(fn.raw, typ).invoke(argv);
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes("call stack");
}

function isHexInt(s: string): boolean {
  return s.length > 2 && s[0] === "0" && (s[1] === "x" || s[1] === "X") && !/[pP]/.test(s);
}

/** An integer as the JavaScript value that holds it: a number when exact, else a bigint. */
function intRaw(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const quoteName = (s: string) => quote(s);
