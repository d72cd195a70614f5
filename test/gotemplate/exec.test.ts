import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TemplateExecError, TemplateParseError } from "../../src/gotemplate/errors.js";
import { Template } from "../../src/gotemplate/template.js";
import {
  BOOL,
  funcOf,
  INT,
  mapOf,
  pointerTo,
  REFLECT_VALUE,
  STRING,
  STRINGER,
  sliceOf,
  structOf,
  UINT,
} from "../../src/gotemplate/types.js";
import { declareStruct, goFunc, Ref, typed, type Value } from "../../src/gotemplate/values.js";
import { CMP_CASES, EXEC_CASES, type Expect } from "./exec-table.js";
import { Buffer, DATA, FUNCS, T, T_TYPE, tVal, V, V_TYPE } from "./godata.js";

function run(t: Template, data: unknown): { out?: string; error?: string } {
  try {
    return { out: t.execute(data) };
  } catch (e) {
    if (e instanceof TemplateExecError) return { error: e.message };
    throw e;
  }
}

function check(got: { out?: string; error?: string }, want: Expect): void {
  if (typeof want === "string") {
    assert.equal(got.error, undefined);
    assert.equal(got.out, want);
  } else if (typeof want.error === "string") assert.equal(got.error, want.error);
  else assert.match(got.error ?? "(no error)", want.error);
}

describe("exec_test.go execTests", () => {
  for (const [name, input, data, want] of EXEC_CASES) {
    test(`${name}: ${input}`, () => {
      assert.ok(data in DATA, `no data named ${data}`);
      const t = Template.new(name).funcs(FUNCS).parse(input);
      check(run(t, DATA[data]), want);
    });
  }
});

describe("exec_test.go cmpTests", () => {
  const cmpStruct = typed(
    pointerTo(
      structOf([
        { name: "Uthree", type: UINT },
        { name: "Ufour", type: UINT },
        { name: "NegOne", type: INT },
        { name: "Three", type: INT },
        { name: "Ptr", type: pointerTo(INT) },
        { name: "NilPtr", type: pointerTo(INT) },
        { name: "NonNilMap", type: mapOf(INT, INT) },
        { name: "Map", type: mapOf(INT, INT) },
        { name: "V1", type: V_TYPE },
        { name: "V2", type: V_TYPE },
        { name: "Iface1", type: STRINGER },
        { name: "NilIface", type: STRINGER },
      ]),
    ),
    {
      Uthree: 3,
      Ufour: 4,
      NegOne: -1,
      Three: 3,
      Ptr: new Ref(0),
      NilPtr: null,
      NonNilMap: new Map(),
      Map: null,
      V1: new V(),
      V2: new V(),
      Iface1: new Buffer(""),
    },
  );
  for (const [expr, want] of CMP_CASES) {
    test(expr, () => {
      const t = Template.new("empty").parse(`{{if ${expr}}}true{{else}}false{{end}}`);
      check(run(t, cmpStruct), want);
    });
  }
});

describe("exec_test.go's other tests", () => {
  test("TestInterfaceValues", () => {
    const data = {
      PlusOne: goFunc(funcOf([INT], [INT]), (n: number) => n + 1),
      Slice: [0, 1, 2, 3],
      One: 1,
      Two: 2,
      Nil: undefined,
      Zero: 0,
    };
    const cases: [string, string][] = [
      ["{{index .Nil 1}}", "ERROR: index of untyped nil"],
      ["{{index .Slice 2}}", "2"],
      ["{{index .Slice .Two}}", "2"],
      ["{{call .Nil 1}}", "ERROR: call of nil"],
      ["{{call .PlusOne 1}}", "2"],
      ["{{call .PlusOne .One}}", "2"],
      ["{{and (index .Slice 0) true}}", "0"],
      ["{{and .Zero true}}", "0"],
      ["{{and (index .Slice 1) false}}", "false"],
      ["{{and .One false}}", "false"],
      ["{{or (index .Slice 0) false}}", "false"],
      ["{{or .Zero false}}", "false"],
      ["{{or (index .Slice 1) true}}", "1"],
      ["{{or .One true}}", "1"],
      ["{{not (index .Slice 0)}}", "true"],
      ["{{not .Zero}}", "true"],
      ["{{not (index .Slice 1)}}", "false"],
      ["{{not .One}}", "false"],
      ["{{eq (index .Slice 0) .Zero}}", "true"],
      ["{{eq (index .Slice 1) .One}}", "true"],
      ["{{ne (index .Slice 0) .Zero}}", "false"],
      ["{{ne (index .Slice 1) .One}}", "false"],
      ["{{ge (index .Slice 0) .One}}", "false"],
      ["{{ge (index .Slice 1) .Zero}}", "true"],
      ["{{gt (index .Slice 0) .One}}", "false"],
      ["{{gt (index .Slice 1) .Zero}}", "true"],
      ["{{le (index .Slice 0) .One}}", "true"],
      ["{{le (index .Slice 1) .Zero}}", "false"],
      ["{{lt (index .Slice 0) .One}}", "true"],
      ["{{lt (index .Slice 1) .Zero}}", "false"],
    ];
    for (const [text, out] of cases) {
      const got = run(Template.new("tmpl").parse(text), data);
      if (out.startsWith("ERROR:")) assert.ok(got.error?.includes(out.slice(7)), `${text}: ${got.error}`);
      else assert.equal(got.out, out, text);
    }
  });

  test("TestMissingMapKey: default, zero and error", () => {
    const data = typed(mapOf(STRING, INT), { x: 99 });
    const t = Template.new("t1").parse("{{.x}} {{.y}}");
    assert.equal(t.execute(data), "99 <no value>");
    t.option("missingkey=default");
    assert.equal(t.execute(data), "99 <no value>");
    t.option("missingkey=zero");
    assert.equal(t.execute(data), "99 0");
    t.option("missingkey=error");
    assert.equal(
      run(t, data).error,
      'template: t1:1:9: executing "t1" at <.y>: map has no entry for key "y"',
    );
    assert.equal(
      run(t, undefined).error,
      'template: t1:1:2: executing "t1" at <.x>: nil data; no entry for key "x"',
    );
    assert.throws(() => t.option("missingkey=sometimes"), /unrecognized option: missingkey=sometimes/);
  });

  test("TestEvalFieldErrors", () => {
    const nilT = typed(pointerTo(T_TYPE), null);
    const cases: [string, unknown, string][] = [
      ["{{.MissingField}}", nilT, "can't evaluate field MissingField in type *template.T"],
      ["{{.MissingField}}", new T(), "can't evaluate field MissingField in type *template.T"],
      ["{{.X}}", nilT, "nil pointer evaluating *template.T.X"],
      [
        "{{.MissingKey}}",
        typed(pointerTo(mapOf(STRING, STRING)), null),
        "nil pointer evaluating *map[string]string.MissingKey",
      ],
    ];
    for (const [src, value, want] of cases) {
      const got = run(Template.new("tmpl").parse(src), value);
      assert.ok(got.error?.endsWith(want), `${src}: ${got.error}`);
    }
    assert.equal(
      run(Template.new("tmpl").parse("{{.MissingKey}}"), typed(pointerTo(mapOf(STRING, STRING)), new Ref({})))
        .out,
      "<no value>",
    );
  });

  test("TestExecutePanicDuringCall (Go 1.24's messages)", () => {
    const funcs = {
      doPanic: goFunc(funcOf([], [STRING]), () => {
        throw new Error("custom panic string");
      }),
    };
    const nilT = typed(pointerTo(T_TYPE), null);
    const cases: [string, unknown, string][] = [
      [
        "{{doPanic}}",
        nilT,
        'template: t:1:2: executing "t" at <doPanic>: error calling doPanic: custom panic string',
      ],
      [
        "{{call doPanic}}",
        nilT,
        'template: t:1:7: executing "t" at <doPanic>: error calling doPanic: custom panic string',
      ],
      [
        "{{.GetU}}",
        nilT,
        'template: t:1:2: executing "t" at <.GetU>: error calling GetU: runtime error: invalid memory address or nil pointer dereference',
      ],
      [
        "{{call .GetU}}",
        nilT,
        'template: t:1:7: executing "t" at <.GetU>: error calling GetU: runtime error: invalid memory address or nil pointer dereference',
      ],
      [
        "{{call .PanicFunc}}",
        tVal,
        'template: t:1:2: executing "t" at <call .PanicFunc>: error calling call: test panic',
      ],
      [
        "{{.NonEmptyInterfaceNil.Method0}}",
        tVal,
        'template: t:1:23: executing "t" at <.NonEmptyInterfaceNil.Method0>: nil pointer evaluating template.I.Method0',
      ],
    ];
    for (const [input, data, want] of cases) {
      assert.equal(run(Template.new("t").funcs(funcs).parse(input), data).error, want, input);
    }
  });

  test("TestFunctionCheckDuringCall", () => {
    const cases: [string, unknown, string][] = [
      ["{{call}}", tVal, "wrong number of args for call: want at least 1 got 0"],
      ["{{call .True}}", tVal, "error calling call: non-function .True of type bool"],
      [
        "{{call .BinaryFunc 1}}",
        tVal,
        "error calling call: wrong number of args for .BinaryFunc: got 1 want 2",
      ],
      [
        "{{call .VariadicFuncInt}}",
        tVal,
        "error calling call: wrong number of args for .VariadicFuncInt: got 0 want at least 1",
      ],
      [
        "{{call .TooFewReturnCountFunc}}",
        tVal,
        "error calling call: function .TooFewReturnCountFunc has 0 return values; should be 1 or 2",
      ],
      [
        "{{call .TooManyReturnCountFunc}}",
        tVal,
        "error calling call: function .TooManyReturnCountFunc has 3 return values; should be 1 or 2",
      ],
      [
        "{{call .InvalidReturnTypeFunc}}",
        tVal,
        "error calling call: invalid function signature for .InvalidReturnTypeFunc: second return value should be error; is bool",
      ],
      ['{{call (len "test")}}', undefined, 'error calling call: non-function len "test" of type int'],
    ];
    for (const [input, data, want] of cases) {
      const got = run(Template.new("t").parse(input), data);
      assert.ok(got.error?.includes(want), `${input}: ${got.error}`);
    }
  });

  test("TestExecError: an error in a nested template names it, with its own location", () => {
    const text = [
      "line 1",
      "line 2",
      "line 3",
      '{{template "one" .}}',
      '{{define "one"}}{{template "two" .}}{{end}}',
      '{{define "two"}}{{template "three" .}}{{end}}',
      '{{define "three"}}{{index "hi" $}}{{end}}',
    ].join("\n");
    assert.equal(
      run(Template.new("top").parse(text), 5).error,
      'template: top:7:20: executing "three" at <index "hi" $>: error calling index: index out of range: 5',
    );
  });

  test("TestExecuteError: a method's error flows back to the top", () => {
    assert.match(run(Template.new("error").parse("{{.MyError true}}"), tVal).error!, /my error/);
  });

  test("TestTree: define, template and trim markers with ( ) as delimiters", () => {
    class Tree {
      constructor(
        public Val: number,
        public Left: Tree | null = null,
        public Right: Tree | null = null,
      ) {}
    }
    const tree = declareStruct(Tree, "template.Tree", { Val: INT });
    tree.fields.push({ name: "Left", type: pointerTo(tree) }, { name: "Right", type: pointerTo(tree) });
    const data = new Tree(
      1,
      new Tree(2, new Tree(3, new Tree(4)), new Tree(5, new Tree(6))),
      new Tree(7, new Tree(8, new Tree(9)), new Tree(10, new Tree(11))),
    );
    const text = `
	(- define "tree" -)
	[
		(- .Val -)
		(- with .Left -)
			(template "tree" . -)
		(- end -)
		(- with .Right -)
			(- template "tree" . -)
		(- end -)
	]
	(- end -)
`;
    const t = Template.new("root").delims("(", ")").parse(text);
    const want = "[1[2[3[4]][5[6]]][7[8[9]][10[11]]]]";
    assert.equal(t.lookup("tree")!.execute(data), want);
    assert.equal(t.executeTemplate("tree", data), want);
  });

  test("TestDelims", () => {
    const pairs: [string, string][] = [
      ["", ""],
      ["{{", "}}"],
      ["<<", ">>"],
      ["|", "|"],
      ["(日)", "(本)"],
    ];
    for (const [left, right] of pairs) {
      const l = left || "{{";
      const r = right || "}}";
      const text = `${l}.Str${r}${l}/*comment*/${r}${l}"${l}"${r}`;
      const t = Template.new("delims").delims(left, right).parse(text);
      assert.equal(
        t.execute(typed(structOf([{ name: "Str", type: STRING }]), { Str: "Hello, world" })),
        `Hello, world${l}`,
      );
    }
  });

  test("TestBlock and Clone: a block is a default a later definition replaces", () => {
    const t = Template.new("outer").parse('a({{block "inner" .}}bar({{.}})baz{{end}})b');
    const t2 = t.clone().parse('{{define "inner"}}foo({{.}})bar{{end}}');
    assert.equal(t.execute("hello"), "a(bar(hello)baz)b");
    assert.equal(t2.execute("goodbye"), "a(foo(goodbye)bar)b");
  });

  test("TestMessageForExecuteEmpty", () => {
    const t = Template.new("empty");
    assert.equal(run(t, 0).error, 'template: empty: "empty" is an incomplete or empty template');
    const tests = Template.new("").parse('{{define "one"}}one{{end}}{{define "two"}}two{{end}}');
    t.addParseTree("secondary", tests.tree!);
    assert.equal(run(t, 0).error, 'template: empty: "empty" is an incomplete or empty template');
    assert.equal(t.executeTemplate("secondary", 0), "");
    assert.throws(
      () => t.executeTemplate("nope", 0),
      /template: no template "nope" associated with template "empty"/,
    );
  });

  test("TestFinalForPrintf and TestIssue31810: parenthesized values and call", () => {
    assert.equal(Template.new("").parse('{{"x" | printf}}').execute(0), "x");
    assert.equal(Template.new("").parse("{{ (.)  }}").execute("result"), "result");
    const f = goFunc(funcOf([], [STRING]), () => "result");
    assert.ok(run(Template.new("").parse("{{ (.)  }}"), f).error);
    assert.equal(Template.new("").parse("{{ (call .)  }}").execute(f), "result");
  });

  test("TestUnterminatedStringError names the line the string started on", () => {
    assert.throws(
      () => Template.new("X").parse("hello\n\n{{`unterminated\n\n\n\n}}\n some more\n\n"),
      (e: Error) =>
        e instanceof TemplateParseError && e.message.includes("X:3: unterminated raw quoted string"),
    );
  });

  test("TestExecuteGivesExecError", () => {
    const got = run(Template.new("X").parse("hello, {{.X.Y}}"), 0);
    assert.ok(got.error?.includes("field X in type int"), got.error);
  });

  test("TestGoodFuncNames and TestBadFuncNames", () => {
    const f = goFunc(funcOf([], [INT]), () => 0);
    for (const name of ["_", "a", "a1", "Ӵ"]) Template.new("X").funcs({ [name]: f });
    for (const name of ["", "2", "a-b"]) {
      assert.throws(() => Template.new("X").funcs({ [name]: f }), /is not a valid identifier/, name);
    }
    const twoResults = goFunc(funcOf([], [STRING, BOOL]), () => "");
    assert.throws(
      () => Template.new("X").funcs({ f: twoResults }),
      /second return value should be error; is bool/,
    );
  });

  test("TestMaxExecDepth: a template that calls itself forever", () => {
    const got = run(Template.new("tmpl").parse('{{template "tmpl" .}}'), undefined);
    assert.match(got.error!, /exceeded maximum template depth \(100000\)/);
    assert.match(got.error!, /^template: tmpl:1:11: executing "tmpl" at <\{\{template "tmpl" \.\}\}>:/);
  });

  test("TestAddrOfIndex: methods of a slice's elements", () => {
    const data = typed(sliceOf(V_TYPE), [new V(1)]);
    for (const text of ["{{range .}}{{.String}}{{end}}", "{{with index . 0}}{{.String}}{{end}}"]) {
      assert.equal(Template.new("tmpl").parse(text).execute(data), "<1>", text);
    }
  });

  test("TestIsTrue, through if", () => {
    const truth = (v: unknown) => Template.new("t").parse("{{if .}}true{{else}}false{{end}}").execute(v);
    const cases: [unknown, string][] = [
      [1, "true"],
      [0, "false"],
      [true, "true"],
      [false, "false"],
      [[1, 2], "true"],
      [[], "false"],
      [{ a: 1 }, "true"],
      [{}, "false"],
      [new Ref(0), "true"],
      [null, "false"],
      [typed(REFLECT_VALUE, undefined) as unknown as Value, "false"],
    ];
    for (const [v, want] of cases) assert.equal(truth(v), want, String(v));
  });

  test("TestJSEscaping", () => {
    const cases: [string, string][] = [
      ["a", "a"],
      ["'foo", "\\'foo"],
      ['Go "jump" \\', 'Go \\"jump\\" \\\\'],
      ['Yukihiro says "今日は世界"', 'Yukihiro says \\"今日は世界\\"'],
      ["unprintable \uFFFE", "unprintable \\uFFFE"],
      ["<html>", "\\u003Chtml\\u003E"],
      ["no = in attributes", "no \\u003D in attributes"],
      ["&#x27; does not become HTML entity", "\\u0026#x27; does not become HTML entity"],
    ];
    for (const [input, want] of cases)
      assert.equal(Template.new("js").parse("{{js .}}").execute(input), want);
  });

  test("ExecError carries the template's name and the Go text; a thrown function error is its cause", () => {
    const boom = new Error("boom");
    const failing = Template.new("named")
      .funcs({
        f: goFunc(funcOf([], [STRING]), () => {
          throw boom;
        }),
      })
      .parse("{{f}}");
    try {
      failing.execute(undefined);
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof TemplateExecError);
      assert.equal(e.templateName, "named");
      assert.equal(e.cause, boom);
      assert.equal(e.code, "TEMPLATE_EXEC");
    }
  });
});
