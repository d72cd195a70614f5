import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Item, type ItemType, type LexOptions, lex } from "../../src/gotemplate/lex.js";

// Go's text/template/parse lex_test.go as data: the items each input lexes to (type and text).

type Tok = readonly [ItemType, string];

const tDot: Tok = ["dot", "."];
const tBlock: Tok = ["block", "block"];
const tEOF: Tok = ["EOF", ""];
const tFor: Tok = ["identifier", "for"];
const tLeft: Tok = ["leftDelim", "{{"];
const tLpar: Tok = ["leftParen", "("];
const tPipe: Tok = ["pipe", "|"];
const tQuote: Tok = ["string", '"abc \\n\\t\\" "'];
const tRange: Tok = ["range", "range"];
const tRight: Tok = ["rightDelim", "}}"];
const tRpar: Tok = ["rightParen", ")"];
const tSpace: Tok = ["space", " "];
const raw = '`abc\\n\\t\\" `';
const rawNL = "`now is{{\n}}the time`";
const tRawQuote: Tok = ["rawString", raw];
const tRawQuoteNL: Tok = ["rawString", rawNL];

const LEX_TESTS: [name: string, input: string, items: Tok[]][] = [
  ["empty", "", [tEOF]],
  ["spaces", " \t\n", [["text", " \t\n"], tEOF]],
  ["text", "now is the time", [["text", "now is the time"], tEOF]],
  [
    "text with comment",
    "hello-{{/* this is a comment */}}-world",
    [["text", "hello-"], ["comment", "/* this is a comment */"], ["text", "-world"], tEOF],
  ],
  ["punctuation", "{{,@% }}", [tLeft, ["char", ","], ["char", "@"], ["char", "%"], tSpace, tRight, tEOF]],
  ["parens", "{{((3))}}", [tLeft, tLpar, tLpar, ["number", "3"], tRpar, tRpar, tRight, tEOF]],
  ["empty action", "{{}}", [tLeft, tRight, tEOF]],
  ["for", "{{for}}", [tLeft, tFor, tRight, tEOF]],
  ["block", '{{block "foo" .}}', [tLeft, tBlock, tSpace, ["string", '"foo"'], tSpace, tDot, tRight, tEOF]],
  ["quote", '{{"abc \\n\\t\\" "}}', [tLeft, tQuote, tRight, tEOF]],
  ["raw quote", `{{${raw}}}`, [tLeft, tRawQuote, tRight, tEOF]],
  ["raw quote with newline", `{{${rawNL}}}`, [tLeft, tRawQuoteNL, tRight, tEOF]],
  [
    "numbers",
    "{{1 02 0x14 0X14 -7.2i 1e3 1E3 +1.2e-4 4.2i 1+2i 1_2 0x1.e_fp4 0X1.E_FP4}}",
    [
      tLeft,
      ["number", "1"],
      tSpace,
      ["number", "02"],
      tSpace,
      ["number", "0x14"],
      tSpace,
      ["number", "0X14"],
      tSpace,
      ["number", "-7.2i"],
      tSpace,
      ["number", "1e3"],
      tSpace,
      ["number", "1E3"],
      tSpace,
      ["number", "+1.2e-4"],
      tSpace,
      ["number", "4.2i"],
      tSpace,
      ["complex", "1+2i"],
      tSpace,
      ["number", "1_2"],
      tSpace,
      ["number", "0x1.e_fp4"],
      tSpace,
      ["number", "0X1.E_FP4"],
      tRight,
      tEOF,
    ],
  ],
  [
    "characters",
    "{{'a' '\\n' '\\'' '\\\\' '\\u00FF' '\\xFF' '本'}}",
    [
      tLeft,
      ["charConstant", "'a'"],
      tSpace,
      ["charConstant", "'\\n'"],
      tSpace,
      ["charConstant", "'\\''"],
      tSpace,
      ["charConstant", "'\\\\'"],
      tSpace,
      ["charConstant", "'\\u00FF'"],
      tSpace,
      ["charConstant", "'\\xFF'"],
      tSpace,
      ["charConstant", "'本'"],
      tRight,
      tEOF,
    ],
  ],
  ["bools", "{{true false}}", [tLeft, ["bool", "true"], tSpace, ["bool", "false"], tRight, tEOF]],
  ["dot", "{{.}}", [tLeft, tDot, tRight, tEOF]],
  ["nil", "{{nil}}", [tLeft, ["nil", "nil"], tRight, tEOF]],
  [
    "dots",
    "{{.x . .2 .x.y.z}}",
    [
      tLeft,
      ["field", ".x"],
      tSpace,
      tDot,
      tSpace,
      ["number", ".2"],
      tSpace,
      ["field", ".x"],
      ["field", ".y"],
      ["field", ".z"],
      tRight,
      tEOF,
    ],
  ],
  [
    "keywords",
    "{{range if else end with}}",
    [
      tLeft,
      ["range", "range"],
      tSpace,
      ["if", "if"],
      tSpace,
      ["else", "else"],
      tSpace,
      ["end", "end"],
      tSpace,
      ["with", "with"],
      tRight,
      tEOF,
    ],
  ],
  [
    "variables",
    "{{$c := printf $ $hello $23 $ $var.Field .Method}}",
    [
      tLeft,
      ["variable", "$c"],
      tSpace,
      ["declare", ":="],
      tSpace,
      ["identifier", "printf"],
      tSpace,
      ["variable", "$"],
      tSpace,
      ["variable", "$hello"],
      tSpace,
      ["variable", "$23"],
      tSpace,
      ["variable", "$"],
      tSpace,
      ["variable", "$var"],
      ["field", ".Field"],
      tSpace,
      ["field", ".Method"],
      tRight,
      tEOF,
    ],
  ],
  ["variable invocation", "{{$x 23}}", [tLeft, ["variable", "$x"], tSpace, ["number", "23"], tRight, tEOF]],
  [
    "pipeline",
    'intro {{echo hi 1.2 |noargs|args 1 "hi"}} outro',
    [
      ["text", "intro "],
      tLeft,
      ["identifier", "echo"],
      tSpace,
      ["identifier", "hi"],
      tSpace,
      ["number", "1.2"],
      tSpace,
      tPipe,
      ["identifier", "noargs"],
      tPipe,
      ["identifier", "args"],
      tSpace,
      ["number", "1"],
      tSpace,
      ["string", '"hi"'],
      tRight,
      ["text", " outro"],
      tEOF,
    ],
  ],
  [
    "declaration",
    "{{$v := 3}}",
    [tLeft, ["variable", "$v"], tSpace, ["declare", ":="], tSpace, ["number", "3"], tRight, tEOF],
  ],
  [
    "2 declarations",
    "{{$v , $w := 3}}",
    [
      tLeft,
      ["variable", "$v"],
      tSpace,
      ["char", ","],
      tSpace,
      ["variable", "$w"],
      tSpace,
      ["declare", ":="],
      tSpace,
      ["number", "3"],
      tRight,
      tEOF,
    ],
  ],
  [
    "field of parenthesized expression",
    "{{(.X).Y}}",
    [tLeft, tLpar, ["field", ".X"], tRpar, ["field", ".Y"], tRight, tEOF],
  ],
  [
    "trimming spaces before and after",
    "hello- {{- 3 -}} -world",
    [["text", "hello-"], tLeft, ["number", "3"], tRight, ["text", "-world"], tEOF],
  ],
  [
    "trimming spaces before and after comment",
    "hello- {{- /* hello */ -}} -world",
    [["text", "hello-"], ["comment", "/* hello */"], ["text", "-world"], tEOF],
  ],
  // errors
  ["badchar", "#{{\x01}}", [["text", "#"], tLeft, ["error", "unrecognized character in action: U+0001"]]],
  ["unclosed action", "{{", [tLeft, ["error", "unclosed action"]]],
  ["EOF in action", "{{range", [tLeft, tRange, ["error", "unclosed action"]]],
  ["unclosed quote", '{{"\n"}}', [tLeft, ["error", "unterminated quoted string"]]],
  ["unclosed raw quote", "{{`xx}}", [tLeft, ["error", "unterminated raw quoted string"]]],
  ["unclosed char constant", "{{'\n}}", [tLeft, ["error", "unterminated character constant"]]],
  ["bad number", "{{3k}}", [tLeft, ["error", 'bad number syntax: "3k"']]],
  ["unclosed paren", "{{(3}}", [tLeft, tLpar, ["number", "3"], ["error", "unclosed left paren"]]],
  // Go 1.20's lexer reports the paren itself (go1.19 emitted it first, then the error with %#U).
  ["extra right paren", "{{3)}}", [tLeft, ["number", "3"], ["error", "unexpected right paren"]]],
  // Fixed bugs
  ["long pipeline deadlock", "{{|||||}}", [tLeft, tPipe, tPipe, tPipe, tPipe, tPipe, tRight, tEOF]],
  [
    "text with bad comment",
    "hello-{{/*/}}-world",
    [
      ["text", "hello-"],
      ["error", "unclosed comment"],
    ],
  ],
  [
    "text with comment close separated from delim",
    "hello-{{/* */ }}-world",
    [
      ["text", "hello-"],
      ["error", "comment ends before closing delimiter"],
    ],
  ],
  // An error Go cannot catch without breaking templates holding minimized JavaScript.
  ["unmatched right delimiter", "hello-{.}}-world", [["text", "hello-{.}}-world"], tEOF]],
];

function collect(input: string, options: LexOptions = {}): Item[] {
  return lex(input, { emitComment: true, ...options });
}

function toks(items: Item[]): Tok[] {
  return items.map((i) => [i.typ, i.val] as const);
}

describe("lex_test.go TestLex", () => {
  for (const [name, input, items] of LEX_TESTS) {
    test(name, () => assert.deepEqual(toks(collect(input)), items));
  }
});

describe("lex_test.go TestDelims", () => {
  const tLeftDelim: Tok = ["leftDelim", "$$"];
  const tRightDelim: Tok = ["rightDelim", "@@"];
  const cases: [string, string, Tok[]][] = [
    [
      "punctuation",
      "$$,@%{{}}@@",
      [
        tLeftDelim,
        ["char", ","],
        ["char", "@"],
        ["char", "%"],
        ["char", "{"],
        ["char", "{"],
        ["char", "}"],
        ["char", "}"],
        tRightDelim,
        tEOF,
      ],
    ],
    ["empty action", "$$@@", [tLeftDelim, tRightDelim, tEOF]],
    ["for", "$$for@@", [tLeftDelim, tFor, tRightDelim, tEOF]],
    ["quote", '$$"abc \\n\\t\\" "@@', [tLeftDelim, tQuote, tRightDelim, tEOF]],
    ["raw quote", `$$${raw}@@`, [tLeftDelim, tRawQuote, tRightDelim, tEOF]],
  ];
  for (const [name, input, items] of cases) {
    test(name, () => assert.deepEqual(toks(collect(input, { leftDelim: "$$", rightDelim: "@@" })), items));
  }

  test("TestDelimsAlphaNumeric", () => {
    assert.deepEqual(toks(collect("{{hub .host hub}}", { leftDelim: "{{hub", rightDelim: "hub}}" })), [
      ["leftDelim", "{{hub"],
      ["space", " "],
      ["field", ".host"],
      ["space", " "],
      ["rightDelim", "hub}}"],
      tEOF,
    ]);
  });
});

describe("lex_test.go TestPos: positions and lines", () => {
  const cases: [string, string, [ItemType, number, string, number][]][] = [
    ["empty", "", [["EOF", 0, "", 1]]],
    [
      "punctuation",
      "{{,@%#}}",
      [
        ["leftDelim", 0, "{{", 1],
        ["char", 2, ",", 1],
        ["char", 3, "@", 1],
        ["char", 4, "%", 1],
        ["char", 5, "#", 1],
        ["rightDelim", 6, "}}", 1],
        ["EOF", 8, "", 1],
      ],
    ],
    [
      "sample",
      "0123{{hello}}xyz",
      [
        ["text", 0, "0123", 1],
        ["leftDelim", 4, "{{", 1],
        ["identifier", 6, "hello", 1],
        ["rightDelim", 11, "}}", 1],
        ["text", 13, "xyz", 1],
        ["EOF", 16, "", 1],
      ],
    ],
    [
      "trimafter",
      "{{x -}}\n{{y}}",
      [
        ["leftDelim", 0, "{{", 1],
        ["identifier", 2, "x", 1],
        ["rightDelim", 5, "}}", 1],
        ["leftDelim", 8, "{{", 2],
        ["identifier", 10, "y", 2],
        ["rightDelim", 11, "}}", 2],
        ["EOF", 13, "", 2],
      ],
    ],
    [
      "trimbefore",
      "{{x}}\n{{- y}}",
      [
        ["leftDelim", 0, "{{", 1],
        ["identifier", 2, "x", 1],
        ["rightDelim", 3, "}}", 1],
        ["leftDelim", 6, "{{", 2],
        ["identifier", 10, "y", 2],
        ["rightDelim", 11, "}}", 2],
        ["EOF", 13, "", 2],
      ],
    ],
  ];
  for (const [name, input, items] of cases) {
    test(name, () =>
      assert.deepEqual(
        collect(input).map((i) => [i.typ, i.pos, i.val, i.line]),
        items,
      ),
    );
  }
});

test("break and continue are identifiers when a function has their name", () => {
  assert.deepEqual(toks(lex("{{break}}", { breakOK: false })), [
    tLeft,
    ["identifier", "break"],
    tRight,
    tEOF,
  ]);
  assert.deepEqual(toks(lex("{{continue}}")), [tLeft, ["continue", "continue"], tRight, tEOF]);
});
