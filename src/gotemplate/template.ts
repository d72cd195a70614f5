/**
 * Go's text/template as a module: `Template.new(name).funcs({...}).parse(text).execute(data)`, with
 * Go's associated templates ({{define}}, {{template}}, {{block}}), options (missingkey) and
 * delimiters. Values are JavaScript values read the way values.ts describes.
 *
 * Parse errors throw TemplateParseError and execution errors TemplateExecError, each with Go's
 * message word for word.
 */
import { TemplateExecError } from "./errors.js";
import { type Callable, callableOf, ExecStop, goodFunc, type MissingKey, State } from "./exec.js";
import { BUILTINS } from "./funcs.js";
import { isEmptyTree } from "./nodes.js";
import { Tree } from "./parse.js";
import { quote } from "./strconv.js";
import { funcTypeOf, toValue } from "./values.js";

/**
 * Functions for templates, by name. A function's Go signature comes from {@link goFunc} (else every
 * parameter is interface{} and the result interface{}); it returns its result and throws for
 * an error, which the template reports as "error calling NAME: MESSAGE".
 */
export type FuncMap = Record<string, (...args: never[]) => unknown>;

interface Common {
  readonly tmpl: Map<string, Template>;
  missingKey: MissingKey;
  readonly parseFuncs: Set<string>;
  readonly execFuncs: Map<string, Callable>;
}

function isGoodName(name: string): boolean {
  if (name === "") return false;
  let first = true;
  for (const ch of name) {
    if (ch !== "_") {
      if (first && !/\p{L}/u.test(ch)) return false;
      if (!/[\p{L}\p{Nd}]/u.test(ch)) return false;
    }
    first = false;
  }
  return true;
}

export class Template {
  tree: Tree | undefined;
  private leftDelim = "";
  private rightDelim = "";

  private constructor(
    readonly name: string,
    private common: Common,
  ) {}

  /** template.New: a new, undefined template with the given name. */
  static new(name: string): Template {
    return new Template(name, {
      tmpl: new Map(),
      missingKey: "invalid",
      parseFuncs: new Set(),
      execFuncs: new Map(),
    });
  }

  /** t.New: a template associated with this one, sharing its functions and definitions. */
  new(name: string): Template {
    const t = new Template(name, this.common);
    t.leftDelim = this.leftDelim;
    t.rightDelim = this.rightDelim;
    return t;
  }

  get missingKey(): MissingKey {
    return this.common.missingKey;
  }

  /** Adds functions (Go's Funcs); a bad name or signature throws, as Go's panics. */
  funcs(funcMap: FuncMap): this {
    for (const [name, fn] of Object.entries(funcMap)) {
      if (!isGoodName(name)) throw new Error(`function name ${quote(name)} is not a valid identifier`);
      if (typeof fn !== "function") throw new Error(`value for ${name} not a function`);
      const type = funcTypeOf(fn);
      const bad = goodFunc(name, type);
      if (bad) throw new Error(bad);
      this.common.execFuncs.set(name, callableOf(fn, type));
      this.common.parseFuncs.add(name);
    }
    return this;
  }

  /** Sets the action delimiters for later parses; empty means the default ({{ and }}). */
  delims(left: string, right: string): this {
    this.leftDelim = left;
    this.rightDelim = right;
    return this;
  }

  /** Go's Option: "missingkey=default", "missingkey=invalid", "missingkey=zero" or "missingkey=error". */
  option(...opts: string[]): this {
    for (const opt of opts) {
      if (opt === "") throw new Error("empty option string");
      const eq = opt.indexOf("=");
      const key = eq < 0 ? "" : opt.slice(0, eq);
      const value = opt.slice(eq + 1);
      if (key === "missingkey") {
        if (value === "invalid" || value === "default") {
          this.common.missingKey = "invalid";
          continue;
        }
        if (value === "zero" || value === "error") {
          this.common.missingKey = value;
          continue;
        }
      }
      throw new Error(`unrecognized option: ${opt}`);
    }
    return this;
  }

  /** Parses text as this template's body, and adds the templates it defines. */
  parse(text: string): this {
    const trees = new Map<string, Tree>();
    const funcs = (name: string) => this.common.parseFuncs.has(name) || name in BUILTINS;
    new Tree(this.name).parse(text, { leftDelim: this.leftDelim, rightDelim: this.rightDelim, funcs }, trees);
    for (const [name, tree] of trees) this.addParseTree(name, tree);
    return this;
  }

  /** Associates a parsed tree with a name (Go's AddParseTree). */
  addParseTree(name: string, tree: Tree): Template {
    const nt = name === this.name ? this : this.new(name);
    if (this.associate(nt, tree) || !nt.tree) nt.tree = tree;
    return nt;
  }

  private associate(nt: Template, tree: Tree): boolean {
    const old = this.common.tmpl.get(nt.name);
    if (old && isEmptyTree(tree.root) && old.tree) return false;
    this.common.tmpl.set(nt.name, nt);
    return true;
  }

  /** The associated template of that name, if it was parsed. */
  lookup(name: string): Template | undefined {
    return this.common.tmpl.get(name);
  }

  templates(): Template[] {
    return [...this.common.tmpl.values()];
  }

  /** "; defined templates are: "a", "b"", or "" (for error messages). */
  definedTemplates(): string {
    const names = [...this.common.tmpl.values()].filter((t) => t.tree?.root).map((t) => quote(t.name));
    return names.length === 0 ? "" : `; defined templates are: ${names.join(", ")}`;
  }

  /** A copy whose later definitions do not change this one (Go's Clone). */
  clone(): Template {
    const common: Common = {
      tmpl: new Map(),
      missingKey: this.common.missingKey,
      parseFuncs: new Set(this.common.parseFuncs),
      execFuncs: new Map(this.common.execFuncs),
    };
    const nt = new Template(this.name, common);
    nt.tree = this.tree;
    nt.leftDelim = this.leftDelim;
    nt.rightDelim = this.rightDelim;
    for (const [k, v] of this.common.tmpl) {
      if (k === this.name) {
        common.tmpl.set(k, nt);
        continue;
      }
      const t = new Template(k, common);
      t.tree = v.tree;
      t.leftDelim = v.leftDelim;
      t.rightDelim = v.rightDelim;
      common.tmpl.set(k, t);
    }
    return nt;
  }

  findFunction(name: string): Callable | undefined {
    return this.common.execFuncs.get(name);
  }

  /** Runs the template on data, handing output to `write` as it goes; throws TemplateExecError. */
  executeTo(write: (s: string) => void, data: unknown): void {
    const value = toValue(data);
    const state: State = new State(this, write, [{ name: "$", value }]);
    try {
      const root = this.tree?.root;
      if (!root) state.errorf(`${quote(this.name)} is an incomplete or empty template`);
      state.walk(value, root);
    } catch (e) {
      if (e instanceof ExecStop) throw new TemplateExecError(e.message, e.templateName, { cause: e.cause });
      if (e instanceof RangeError && e.message.includes("call stack")) {
        // Deeper than JavaScript's stack reaches (Go's own limits are deeper still).
        throw new TemplateExecError(`template: ${this.name}: max expression depth exceeded`, this.name, {
          cause: e,
        });
      }
      throw e;
    }
  }

  /** Runs the template on data and returns its output; throws TemplateExecError. */
  execute(data: unknown): string {
    let out = "";
    this.executeTo((s) => {
      out += s;
    }, data);
    return out;
  }

  /** Runs the associated template of that name. */
  executeTemplate(name: string, data: unknown): string {
    const t = this.lookup(name);
    if (!t) {
      throw new TemplateExecError(
        `template: no template ${quote(name)} associated with template ${quote(this.name)}`,
        this.name,
      );
    }
    return t.execute(data);
  }
}
