/**
 * The parser of Go's text/template (text/template/parse/parse.go): items from the lexer into a
 * tree of nodes, one tree per template (`{{define}}` and `{{block}}` add more to a shared set).
 * Errors read as Go's: "template: NAME:LINE: MESSAGE", LINE being that of the last item read.
 */
import { TemplateParseError } from "./errors.js";
import { type Item, type ItemType, itemString, Lexer } from "./lex.js";
import {
  ActionNode,
  BoolNode,
  BranchNode,
  BreakNode,
  ChainNode,
  CommandNode,
  CommentNode,
  ContinueNode,
  DotNode,
  ElseNode,
  EndNode,
  FieldNode,
  IdentifierNode,
  isEmptyTree,
  ListNode,
  NilNode,
  type Node,
  NumberNode,
  PipeNode,
  StringNode,
  TemplateNode,
  TextNode,
  VariableNode,
} from "./nodes.js";
import {
  floatIsInt64,
  floatIsUint64,
  parseFloat64,
  parseInt64,
  parseUint,
  quote,
  StrconvError,
  unquote,
  unquoteChar,
} from "./strconv.js";
import { Complex } from "./values.js";

export interface ParseMode {
  /** Keep comments as nodes (parse.ParseComments). */
  parseComments?: boolean;
  /** Accept calls of functions nobody defined (parse.SkipFuncCheck). */
  skipFuncCheck?: boolean;
}

const MAX_STACK_DEPTH = 10000;
const MAX_PIPELINE_CMDS = 100000;

/** Thrown inside the parser; Tree.parse turns it into a TemplateParseError. */
class Stop {
  constructor(readonly message: string) {}
}

/** The items of one lexer, shared by the trees that {{define}} and {{block}} start while parsing. */
interface Cursor {
  items: Item[];
  index: number;
}

export type FuncNames = (name: string) => boolean;

/** A parsed template: its name and the root of its nodes. */
export class Tree {
  root: ListNode | undefined;
  /** Name of the top-level template being parsed, used in error messages. */
  parseName: string;
  text = "";

  // Parsing only.
  private cursor: Cursor = { items: [], index: 0 };
  private readonly token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ["$"];
  private treeSet = new Map<string, Tree>();
  private actionLine = 0;
  private rangeDepth = 0;
  private stackDepth = 0;
  private hasFunction: FuncNames = () => false;

  constructor(
    public name: string,
    readonly mode: ParseMode = {},
  ) {
    this.parseName = name;
  }

  /**
   * Parses text into this tree, adding it and every template it defines to treeSet. Throws a
   * TemplateParseError with Go's message.
   */
  parse(
    text: string,
    options: { leftDelim?: string; rightDelim?: string; funcs?: FuncNames },
    treeSet: Map<string, Tree>,
  ): this {
    this.parseName = this.name;
    const funcs = options.funcs ?? (() => false);
    const lexer = new Lexer(text, {
      leftDelim: options.leftDelim,
      rightDelim: options.rightDelim,
      emitComment: this.mode.parseComments,
      breakOK: !funcs("break"),
      continueOK: !funcs("continue"),
    });
    this.startParse(funcs, { items: lexer.run(), index: 0 }, treeSet);
    this.text = text;
    try {
      this.parseTop();
      this.add();
    } catch (e) {
      this.root = undefined;
      if (e instanceof Stop) throw new TemplateParseError(e.message);
      if (isStackOverflow(e)) {
        throw new TemplateParseError(
          `template: ${this.parseName}:${this.token[0]?.line ?? 1}: max expression depth exceeded`,
        );
      }
      throw e;
    }
    return this;
  }

  /** A copy that shares nothing being parsed (parse.Tree.Copy). */
  copy(): Tree {
    const t = new Tree(this.name, this.mode);
    t.parseName = this.parseName;
    t.root = this.root;
    t.text = this.text;
    return t;
  }

  /** "NAME:LINE:COL" of a node, and the node as text (parse.Tree.ErrorContext). */
  errorContext(n: Node): { location: string; context: string } {
    const tree = n.tree ?? this;
    const text = tree.text.slice(0, n.pos);
    const nl = text.lastIndexOf("\n");
    const byteNum = Buffer.byteLength(text.slice(nl + 1), "utf8");
    const lineNum = 1 + (text.match(/\n/g)?.length ?? 0);
    return { location: `${tree.parseName}:${lineNum}:${byteNum}`, context: n.toString() };
  }

  private startParse(funcs: FuncNames, cursor: Cursor, treeSet: Map<string, Tree>): void {
    this.root = undefined;
    this.cursor = cursor;
    this.vars = ["$"];
    this.hasFunction = funcs;
    this.treeSet = treeSet;
    this.stackDepth = 0;
  }

  // ---- tokens

  private nextItem(): Item {
    const c = this.cursor;
    const item = c.items[c.index] ?? c.items[c.items.length - 1]!;
    if (c.index < c.items.length) c.index++;
    return item;
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.nextItem();
    return this.token[this.peekCount]!;
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.nextItem();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === "space");
    return token;
  }

  private peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  // ---- errors

  private errorf(message: string): never {
    this.root = undefined;
    throw new Stop(`template: ${this.parseName}:${this.token[0]?.line ?? 1}: ${message}`);
  }

  private expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  private expectOneOf(a: ItemType, b: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== a && token.typ !== b) this.unexpected(token, context);
    return token;
  }

  private unexpected(token: Item, context: string): never {
    if (token.typ === "error") {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  private unquote(s: string): string {
    try {
      return unquote(s);
    } catch (e) {
      if (e instanceof StrconvError) this.errorf(e.message);
      throw e;
    }
  }

  // ---- trees

  private add(): void {
    const tree = this.treeSet.get(this.name);
    if (!tree || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, this);
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template "${this.name}"`);
  }

  private parseTop(): void {
    this.root = new ListNode(this, this.peek().pos);
    while (this.peek().typ !== "EOF") {
      if (this.peek().typ === "leftDelim") {
        const delim = this.next();
        if (this.nextNonSpace().typ === "define") {
          const newT = new Tree("definition", this.mode);
          newT.text = this.text;
          newT.parseName = this.parseName;
          newT.startParse(this.hasFunction, this.cursor, this.treeSet);
          newT.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") this.errorf(`unexpected ${n}`);
      this.root.nodes.push(n);
    }
  }

  private parseDefinition(): void {
    const context = "define clause";
    const name = this.expectOneOf("string", "rawString", context);
    this.name = this.unquote(name.val);
    this.expect("rightDelim", context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== "end") this.errorf(`unexpected ${end} in ${context}`);
    this.add();
  }

  private itemList(): [ListNode, Node] {
    const list = new ListNode(this, this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== "EOF") {
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") return [list, n];
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  private textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case "text":
        return new TextNode(this, token.pos, token.val);
      case "leftDelim": {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case "comment":
        return new CommentNode(this, token.pos, token.val);
      default:
        this.unexpected(token, "input");
    }
  }

  private action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case "block":
        return this.blockControl();
      case "break":
        return this.breakControl(token.pos, token.line);
      case "continue":
        return this.continueControl(token.pos, token.line);
      case "else":
        return this.elseControl();
      case "end":
        return this.endControl();
      case "if":
        return this.ifControl();
      case "range":
        return this.rangeControl();
      case "template":
        return this.templateControl();
      case "with":
        return this.withControl();
    }
    this.backup();
    const t = this.peek();
    return new ActionNode(this, t.pos, t.line, this.pipeline("command", "rightDelim"));
  }

  private breakControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== "rightDelim") this.unexpected(token, "{{break}}");
    if (this.rangeDepth === 0) this.errorf("{{break}} outside {{range}}");
    return new BreakNode(this, pos, line);
  }

  private continueControl(pos: number, line: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== "rightDelim") this.unexpected(token, "{{continue}}");
    if (this.rangeDepth === 0) this.errorf("{{continue}} outside {{range}}");
    return new ContinueNode(this, pos, line);
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe = new PipeNode(this, token.pos, token.line);
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== "variable") break;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === "assign" || next.typ === "declare") {
        pipe.isAssign = next.typ === "assign";
        this.nextNonSpace();
        pipe.decl.push(new VariableNode(this, v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.typ === "char" && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push(new VariableNode(this, v.pos, v.val));
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const t = this.peekNonSpace().typ;
          if (t === "variable" || t === "rightDelim" || t === "rightParen") continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === "space") {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case "bool":
        case "charConstant":
        case "complex":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          this.backup();
          pipe.cmds.push(this.command());
          if (pipe.cmds.length > MAX_PIPELINE_CMDS) this.errorf("pipeline too long");
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === "bool" || t === "dot" || t === "nil" || t === "number" || t === "string") {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private parseControl(context: "if" | "range" | "with"): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, "rightDelim");
      if (context === "range") this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === "range") this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === "else") {
        // {{else if …}} and {{else with …}}: a nested if/with that shares this one's {{end}}.
        if (context === "if" && this.peek().typ === "if") {
          this.next();
          elseList = new ListNode(this, next.pos);
          elseList.nodes.push(this.ifControl());
        } else if (context === "with" && this.peek().typ === "with") {
          this.next();
          elseList = new ListNode(this, next.pos);
          elseList.nodes.push(this.withControl());
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== "end") this.errorf(`expected end; found ${next}`);
        }
      }
      return new BranchNode(context, this, pipe.pos, pipe.line, pipe, list, elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private ifControl(): Node {
    return this.parseControl("if");
  }

  private rangeControl(): Node {
    return this.parseControl("range");
  }

  private withControl(): Node {
    return this.parseControl("with");
  }

  private endControl(): Node {
    return new EndNode(this, this.expect("rightDelim", "end").pos);
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === "if" || peek.typ === "with") return new ElseNode(this, peek.pos, peek.line);
    const token = this.expect("rightDelim", "else");
    return new ElseNode(this, token.pos, token.line);
  }

  private blockControl(): Node {
    const context = "block clause";
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, "rightDelim");
    const block = new Tree(name, this.mode);
    block.text = this.text;
    block.parseName = this.parseName;
    block.startParse(this.hasFunction, this.cursor, this.treeSet);
    const [list, end] = block.itemList();
    block.root = list;
    if (end.type !== "end") this.errorf(`unexpected ${end} in ${context}`);
    block.add();
    return new TemplateNode(this, token.pos, token.line, name, pipe);
  }

  private templateControl(): Node {
    const context = "template clause";
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== "rightDelim") {
      this.backup();
      pipe = this.pipeline(context, "rightDelim");
    }
    return new TemplateNode(this, token.pos, token.line, name, pipe);
  }

  private parseTemplateName(token: Item, context: string): string {
    if (token.typ === "string" || token.typ === "rawString") return this.unquote(token.val);
    this.unexpected(token, context);
  }

  private command(): CommandNode {
    const cmd = new CommandNode(this, this.peekNonSpace().pos);
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === "space") continue;
      if (token.typ === "rightDelim" || token.typ === "rightParen") this.backup();
      else if (token.typ !== "pipe") this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private operand(): Node | undefined {
    let node = this.term();
    if (!node) return undefined;
    if (this.peek().typ === "field") {
      const chain = new ChainNode(this, this.peek().pos, node);
      while (this.peek().typ === "field") chain.add(this.next().val);
      switch (node.type) {
        case "field":
          node = new FieldNode(this, chain.pos, chain.toString());
          break;
        case "variable":
          node = new VariableNode(this, chain.pos, chain.toString());
          break;
        case "bool":
        case "string":
        case "number":
        case "nil":
        case "dot":
          this.errorf(`unexpected . after term ${quote(node.toString())}`);
          break;
        default:
          node = chain;
      }
    }
    return node;
  }

  private term(): Node | undefined {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case "identifier":
        if (!this.mode.skipFuncCheck && !this.hasFunction(token.val)) {
          this.errorf(`function "${token.val}" not defined`);
        }
        return new IdentifierNode(this, token.pos, token.val);
      case "dot":
        return new DotNode(this, token.pos);
      case "nil":
        return new NilNode(this, token.pos);
      case "variable":
        return this.useVar(token.pos, token.val);
      case "field":
        return new FieldNode(this, token.pos, token.val);
      case "bool":
        return new BoolNode(this, token.pos, token.val === "true");
      case "charConstant":
      case "complex":
      case "number":
        try {
          return newNumber(this, token.pos, token.val, token.typ);
        } catch (e) {
          if (e instanceof NumberError) this.errorf(e.message);
          throw e;
        }
      case "leftParen": {
        if (this.stackDepth >= MAX_STACK_DEPTH) this.errorf("max expression depth exceeded");
        this.stackDepth++;
        try {
          return this.pipeline("parenthesized pipeline", "rightParen");
        } catch (e) {
          // JavaScript's stack ends before Go's depth limit: report it as Go reports its limit.
          if (isStackOverflow(e)) this.errorf("max expression depth exceeded");
          throw e;
        } finally {
          this.stackDepth--;
        }
      }
      case "string":
      case "rawString":
        return new StringNode(this, token.pos, token.val, this.unquote(token.val));
    }
    this.backup();
    return undefined;
  }

  private useVar(pos: number, name: string): Node {
    const v = new VariableNode(this, pos, name);
    if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable "${v.ident[0]}"`);
    return v;
  }
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes("call stack");
}

export class NumberError extends Error {}

/** A number constant from its text, with every type it can stand for (parse.Tree.newNumber). */
export function newNumber(tree: Tree, pos: number, text: string, typ: ItemType): NumberNode {
  const n = new NumberNode(tree, pos, text);
  if (typ === "charConstant") {
    let r: { value: string; tail: string };
    try {
      r = unquoteChar(text.slice(1), text[0]!);
    } catch {
      throw new NumberError(`malformed character constant: ${text}`);
    }
    if (r.tail !== "'") throw new NumberError(`malformed character constant: ${text}`);
    const rune = BigInt(r.value.codePointAt(0)!);
    n.int64 = rune;
    n.isInt = true;
    n.uint64 = rune;
    n.isUint = true;
    n.float64 = Number(rune);
    n.isFloat = true;
    return n;
  }
  if (typ === "complex") {
    const c = parseComplex(text);
    if (!c) throw new NumberError(`strconv.ParseComplex: parsing ${quote(text)}: invalid syntax`);
    n.isComplex = true;
    n.complex128 = c;
    simplifyComplex(n);
    return n;
  }
  if (text.endsWith("i")) {
    const f = parseFloat64(text.slice(0, -1));
    if (f !== undefined) {
      n.isComplex = true;
      n.complex128 = new Complex(0, f);
      simplifyComplex(n);
      return n;
    }
  }
  const u = parseUint(text);
  if (u !== undefined) {
    n.isUint = true;
    n.uint64 = u;
  }
  const i = parseInt64(text);
  if (i !== undefined) {
    n.isInt = true;
    n.int64 = i;
    if (i === 0n) {
      n.isUint = true;
      n.uint64 = u ?? 0n;
    }
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float64 = Number(n.int64);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float64 = Number(n.uint64);
  } else {
    const f = parseFloat64(text);
    if (f !== undefined) {
      if (!/[.eEpP]/.test(text)) throw new NumberError(`integer overflow: ${quote(text)}`);
      n.isFloat = true;
      n.float64 = f;
      if (floatIsInt64(f)) {
        n.isInt = true;
        n.int64 = BigInt(f);
      }
      if (floatIsUint64(f)) {
        n.isUint = true;
        n.uint64 = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new NumberError(`illegal number syntax: ${quote(text)}`);
  return n;
}

function simplifyComplex(n: NumberNode): void {
  const c = n.complex128!;
  n.isFloat = c.im === 0;
  if (n.isFloat) {
    n.float64 = c.re;
    n.isInt = floatIsInt64(c.re);
    if (n.isInt) n.int64 = BigInt(c.re);
    n.isUint = floatIsUint64(c.re);
    if (n.isUint) n.uint64 = BigInt(c.re);
  }
}

/** A complex literal the lexer accepted ("1+2i", "-1.2+4.2i"), as fmt.Sscan reads it. */
function parseComplex(text: string): Complex | undefined {
  const m = /^([+-]?[^+-]*(?:[eEpP][+-][^+-]*)?)([+-].*)i$/.exec(text);
  if (!m) return undefined;
  const re = parseFloat64(m[1]!);
  const im = parseFloat64(m[2]!);
  if (re === undefined || im === undefined) return undefined;
  return new Complex(re, im);
}
