import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TemplateParseError } from "../../src/gotemplate/errors.js";
import type { ItemType } from "../../src/gotemplate/lex.js";
import { type ActionNode, isEmptyTree, treeString } from "../../src/gotemplate/nodes.js";
import { NumberError, newNumber, Tree } from "../../src/gotemplate/parse.js";
import { NUMBER_CASES, PARSE_CASES } from "./parse-table.js";

const builtins = (name: string) => name === "printf" || name === "contains";

function parse(name: string, input: string, funcs = builtins, trees = new Map<string, Tree>()): Tree {
  return new Tree(name).parse(input, { funcs }, trees);
}

describe("parse_test.go parseTests and errorTests", () => {
  for (const [name, input, want] of PARSE_CASES) {
    test(`${name}: ${JSON.stringify(input)}`, () => {
      if (typeof want === "string") assert.equal(treeString(parse(name, input).root!), want);
      else {
        assert.throws(
          () => parse(name, input),
          (e: Error) => e instanceof TemplateParseError && e.message === want.error,
        );
      }
    });
  }
});

describe("parse_test.go numberTests", () => {
  for (const [text, want] of NUMBER_CASES) {
    test(text, () => {
      const typ: ItemType = text.startsWith("'")
        ? "charConstant"
        : /^[+-]?[^+-]+[+-].*i$/.test(text)
          ? "complex"
          : "number";
      const tree = new Tree("numbers");
      if (want.error !== undefined) {
        assert.throws(
          () => newNumber(tree, 0, text, typ),
          (e: Error) => e instanceof NumberError && e.message === want.error,
        );
        return;
      }
      const n = newNumber(tree, 0, text, typ);
      assert.equal(n.isInt, want.int !== undefined, "isInt");
      assert.equal(n.isUint, want.uint !== undefined, "isUint");
      assert.equal(n.isFloat, want.float !== undefined, "isFloat");
      assert.equal(n.isComplex, want.re !== undefined, "isComplex");
      if (want.int !== undefined) assert.equal(n.int64, want.int);
      if (want.uint !== undefined) assert.equal(n.uint64, want.uint);
      if (want.float !== undefined) assert.equal(n.float64, want.float);
      if (want.re !== undefined) {
        assert.equal(n.complex128!.re, want.re);
        assert.equal(n.complex128!.im, want.im);
      }
    });
  }
});

describe("parse_test.go's other tests", () => {
  test("TestParseWithComments", () => {
    const cases: [string, string][] = [
      ["{{/*\n\n\n*/}}", "{{/*\n\n\n*/}}"],
      ["x \r\n\t{{- /* hi */}}", '"x"{{/* hi */}}'],
      ["{{/* hi */ -}}\n\n\ty", '{{/* hi */}}"y"'],
      ["x \r\n\t{{- /* */ -}}\n\n\ty", '"x"{{/* */}}"y"'],
    ];
    for (const [input, want] of cases) {
      const tree = new Tree("comment", { parseComments: true }).parse(input, {}, new Map());
      assert.equal(treeString(tree.root!), want);
    }
  });

  test("TestSkipFuncCheck", () => {
    const tree = new Tree("skip func check", { skipFuncCheck: true }).parse("{{fn 1 2}}", {}, new Map());
    assert.equal(treeString(tree.root!), "{{fn 1 2}}");
  });

  test("TestIsEmpty", () => {
    const cases: [string, boolean][] = [
      ["", true],
      ["hello", false],
      [" \t\n \t\n", true],
      ["{{/* comment */}}", true],
      ['{{define "x"}}something{{end}}', true],
      ["{{define `x`}}something{{end}}\n\n{{define `y`}}something{{end}}\n\n", true],
      ["{{define `x`}}something{{end}}\nx\n{{define `y`}}something{{end}}\ny\n", false],
      ["{{define `x`}}something{{end}}{{if 3}}foo{{end}}", false],
    ];
    assert.ok(isEmptyTree(undefined));
    for (const [input, empty] of cases) assert.equal(isEmptyTree(parse("root", input).root), empty, input);
  });

  test("TestErrorContextWithTreeCopy", () => {
    const tree = parse("root", "{{if true}}{{end}}");
    const copy = tree.copy();
    assert.deepEqual(copy.errorContext(copy.root!.nodes[0]!), tree.errorContext(tree.root!.nodes[0]!));
    assert.deepEqual(tree.errorContext(tree.root!.nodes[0]!), {
      location: "root:1:5",
      context: "{{if true}}{{end}}",
    });
  });

  test("TestBlock: a block defines a template and calls it", () => {
    const trees = new Map<string, Tree>();
    const tmpl = parse("outer", 'a{{block "inner" .}}bar{{.}}baz{{end}}b', builtins, trees);
    assert.equal(tmpl.root!.toString(), 'a{{template "inner" .}}b');
    assert.equal(trees.get("inner")?.root?.toString(), "bar{{.}}baz");
  });

  test("TestLineNum", () => {
    const tree = parse("bench", "{{printf 1234}}\n".repeat(100));
    const nodes = tree.root!.nodes;
    for (let i = 0; i < nodes.length; i += 2) {
      const action = nodes[i] as ActionNode;
      assert.equal(action.line, 1 + i / 2);
      assert.equal(action.pipe.line, 1 + i / 2);
    }
  });

  test("else with, as Go 1.23 parses it", () => {
    assert.equal(
      treeString(parse("w", "{{with .X}}a{{else with .Y}}b{{else}}c{{end}}").root!),
      '{{with .X}}"a"{{else}}{{with .Y}}"b"{{else}}"c"{{end}}{{end}}',
    );
    assert.throws(() => parse("w", "{{range .X}}a{{else with .Y}}b{{end}}"), /unexpected <with> in input/);
  });

  test("an assignment prints back as one", () => {
    assert.equal(treeString(parse("a", "{{$x := 1}}{{$x = 2}}").root!), "{{$x := 1}}{{$x = 2}}");
  });

  test("hostile input: deep parentheses and long pipelines end with Go's errors, not a crash", () => {
    assert.throws(
      () => parse("deep", `{{${"(".repeat(20000)}1${")".repeat(20000)}}}`),
      /max expression depth exceeded/,
    );
    assert.throws(() => parse("deep", "{{".repeat(5000)), TemplateParseError);
  });
});
