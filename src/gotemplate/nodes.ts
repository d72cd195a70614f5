/**
 * The parse tree of Go's text/template (text/template/parse/node.go). Every node prints back as
 * template source (`{{if .X}}"a"{{else}}"b"{{end}}`); that text is what execution errors quote
 * after "at <…>".
 */
import type { Tree } from "./parse.js";
import { quote } from "./strconv.js";
import type { Complex } from "./values.js";

interface Printer {
  out: string;
  /** Text nodes print quoted, as Go's parse tests print them. */
  readonly quoteText: boolean;
}

abstract class BaseNode {
  constructor(
    readonly tree: Tree,
    /** Offset of the node in the template's text. */
    readonly pos: number,
  ) {}

  abstract writeTo(p: Printer): void;

  toString(): string {
    const p = { out: "", quoteText: false };
    this.writeTo(p);
    return p.out;
  }
}

export class ListNode extends BaseNode {
  readonly type = "list";
  readonly nodes: Node[] = [];

  writeTo(p: Printer): void {
    for (const n of this.nodes) n.writeTo(p);
  }
}

export class TextNode extends BaseNode {
  readonly type = "text";
  constructor(
    tree: Tree,
    pos: number,
    readonly text: string,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += p.quoteText ? quote(this.text) : this.text;
  }
}

export class CommentNode extends BaseNode {
  readonly type = "comment";
  constructor(
    tree: Tree,
    pos: number,
    readonly text: string,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += `{{${this.text}}}`;
  }
}

export class PipeNode extends BaseNode {
  readonly type = "pipe";
  isAssign = false;
  readonly decl: VariableNode[] = [];
  readonly cmds: CommandNode[] = [];

  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    if (this.decl.length > 0) {
      this.decl.forEach((v, i) => {
        if (i > 0) p.out += ", ";
        v.writeTo(p);
      });
      p.out += this.isAssign ? " = " : " := ";
    }
    this.cmds.forEach((c, i) => {
      if (i > 0) p.out += " | ";
      c.writeTo(p);
    });
  }
}

export class ActionNode extends BaseNode {
  readonly type = "action";
  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
    readonly pipe: PipeNode,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += "{{";
    this.pipe.writeTo(p);
    p.out += "}}";
  }
}

export class CommandNode extends BaseNode {
  readonly type = "command";
  readonly args: Node[] = [];

  writeTo(p: Printer): void {
    this.args.forEach((arg, i) => {
      if (i > 0) p.out += " ";
      if (arg.type === "pipe") {
        p.out += "(";
        arg.writeTo(p);
        p.out += ")";
      } else arg.writeTo(p);
    });
  }
}

export class IdentifierNode extends BaseNode {
  readonly type = "identifier";
  constructor(
    tree: Tree,
    pos: number,
    readonly ident: string,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += this.ident;
  }
}

export class VariableNode extends BaseNode {
  readonly type = "variable";
  /** The variable's name ("$x") and then any fields, as in $x.A.B. */
  readonly ident: string[];
  constructor(tree: Tree, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.split(".");
  }

  writeTo(p: Printer): void {
    p.out += this.ident.join(".");
  }
}

export class DotNode extends BaseNode {
  readonly type = "dot";
  writeTo(p: Printer): void {
    p.out += ".";
  }
}

export class NilNode extends BaseNode {
  readonly type = "nil";
  writeTo(p: Printer): void {
    p.out += "nil";
  }
}

export class FieldNode extends BaseNode {
  readonly type = "field";
  readonly ident: string[];
  constructor(tree: Tree, pos: number, ident: string) {
    super(tree, pos);
    this.ident = ident.slice(1).split(".");
  }

  writeTo(p: Printer): void {
    for (const id of this.ident) p.out += `.${id}`;
  }
}

export class ChainNode extends BaseNode {
  readonly type = "chain";
  readonly field: string[] = [];
  constructor(
    tree: Tree,
    pos: number,
    readonly node: Node,
  ) {
    super(tree, pos);
  }

  add(field: string): void {
    this.field.push(field.slice(1));
  }

  writeTo(p: Printer): void {
    if (this.node.type === "pipe") {
      p.out += "(";
      this.node.writeTo(p);
      p.out += ")";
    } else this.node.writeTo(p);
    for (const f of this.field) p.out += `.${f}`;
  }
}

export class BoolNode extends BaseNode {
  readonly type = "bool";
  constructor(
    tree: Tree,
    pos: number,
    readonly value: boolean,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += this.value ? "true" : "false";
  }
}

/** A numeric constant; like Go's, it records every type its text can stand for. */
export class NumberNode extends BaseNode {
  readonly type = "number";
  isInt = false;
  isUint = false;
  isFloat = false;
  isComplex = false;
  int64 = 0n;
  uint64 = 0n;
  float64 = 0;
  complex128: Complex | undefined;

  constructor(
    tree: Tree,
    pos: number,
    readonly text: string,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += this.text;
  }
}

export class StringNode extends BaseNode {
  readonly type = "string";
  constructor(
    tree: Tree,
    pos: number,
    /** The literal as written, quotes included. */
    readonly quoted: string,
    readonly text: string,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += this.quoted;
  }
}

export class EndNode extends BaseNode {
  readonly type = "end";
  writeTo(p: Printer): void {
    p.out += "{{end}}";
  }
}

export class ElseNode extends BaseNode {
  readonly type = "else";
  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += "{{else}}";
  }
}

export class BranchNode extends BaseNode {
  constructor(
    readonly type: "if" | "range" | "with",
    tree: Tree,
    pos: number,
    readonly line: number,
    readonly pipe: PipeNode,
    readonly list: ListNode,
    readonly elseList: ListNode | undefined,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += `{{${this.type} `;
    this.pipe.writeTo(p);
    p.out += "}}";
    this.list.writeTo(p);
    if (this.elseList) {
      p.out += "{{else}}";
      this.elseList.writeTo(p);
    }
    p.out += "{{end}}";
  }
}

export class BreakNode extends BaseNode {
  readonly type = "break";
  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += "{{break}}";
  }
}

export class ContinueNode extends BaseNode {
  readonly type = "continue";
  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += "{{continue}}";
  }
}

export class TemplateNode extends BaseNode {
  readonly type = "template";
  constructor(
    tree: Tree,
    pos: number,
    readonly line: number,
    readonly name: string,
    readonly pipe: PipeNode | undefined,
  ) {
    super(tree, pos);
  }

  writeTo(p: Printer): void {
    p.out += `{{template ${quote(this.name)}`;
    if (this.pipe) {
      p.out += " ";
      this.pipe.writeTo(p);
    }
    p.out += "}}";
  }
}

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | PipeNode
  | ActionNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | EndNode
  | ElseNode
  | BranchNode
  | BreakNode
  | ContinueNode
  | TemplateNode;

/** A node as Go's parse tests print it: text nodes quoted. */
export function treeString(node: Node): string {
  const p = { out: "", quoteText: true };
  node.writeTo(p);
  return p.out;
}

/** unicode.IsSpace, for bytes.TrimSpace. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** Whether a tree holds nothing but space and comments (parse.IsEmptyTree). */
export function isEmptyTree(n: Node | undefined): boolean {
  if (!n) return true;
  switch (n.type) {
    case "comment":
      return true;
    case "list":
      return n.nodes.every(isEmptyTree);
    case "text":
      return GO_SPACE.test(n.text);
    default:
      return false;
  }
}
