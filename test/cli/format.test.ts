import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { plainTable } from "../../src/cli/format/columns.js";
import { FormatError } from "../../src/cli/format/errors.js";
import { HEADER_FUNCS, parseDockerTemplate } from "../../src/cli/format/functions.js";
import { goJson } from "../../src/cli/format/json.js";
import { tabwrite } from "../../src/cli/format/tabwriter.js";
import { ellipsis, humanDuration, humanSize, truncateId } from "../../src/cli/format/units.js";
import { printRows } from "../../src/cli/output.js";
import { TemplateExecError } from "../../src/gotemplate/errors.js";
import { Template } from "../../src/gotemplate/template.js";
import { sliceOf, UINT8 } from "../../src/gotemplate/types.js";
import { goStruct, typed } from "../../src/gotemplate/values.js";

function capture(fn: (out: NodeJS.WritableStream) => void): string {
  let text = "";
  const sink = {
    write(s: string): boolean {
      text += s;
      return true;
    },
  };
  fn(sink as unknown as NodeJS.WritableStream);
  return text;
}

describe("units (go-units)", () => {
  // Expected values from go-units size_test.go (HumanSize uses %.4g and decimal units).
  const sizes: [number, string][] = [
    [0, "0B"],
    [966, "966B"],
    [1000, "1kB"],
    [1024, "1.024kB"],
    [1_000_000, "1MB"],
    [1_048_576, "1.049MB"],
    [2 * 1_000_000_000, "2GB"],
    [3.42 * 1e12, "3.42TB"],
    [5.372 * 1e15, "5.372PB"],
  ];
  for (const [bytes, text] of sizes)
    test(`humanSize(${bytes}) = ${text}`, () => assert.equal(humanSize(bytes), text));

  // From go-units duration_test.go.
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const durations: [number, string][] = [
    [450, "Less than a second"],
    [1 * s, "1 second"],
    [47 * s, "47 seconds"],
    [1 * m, "About a minute"],
    [3 * m, "3 minutes"],
    [35 * m, "35 minutes"],
    [35 * m + 40 * s, "35 minutes"],
    [1 * h, "About an hour"],
    [1 * h + 45 * m, "2 hours"],
    [3 * h, "3 hours"],
    [3 * h + 59 * m, "4 hours"],
    [2 * d, "2 days"],
    [20 * d, "2 weeks"],
    [61 * d, "2 months"],
    [365 * d, "12 months"],
    [2 * 365 * d, "2 years"],
    [3 * 365 * d + 2 * d, "3 years"],
  ];
  for (const [ms, text] of durations)
    test(`humanDuration(${ms}) = ${text}`, () => assert.equal(humanDuration(ms), text));

  test("TruncateID and Ellipsis", () => {
    assert.equal(
      truncateId("sha256:90250c3bfe1a0b4a1d9a6c3e5e9b2a5d2c5e8c0f0e2a5b5f9f2f1d2c3b4a5968"),
      "90250c3bfe1a",
    );
    assert.equal(ellipsis("hello world", 5), "hell…");
    assert.equal(ellipsis("hello", 5), "hello");
  });
});

describe("docker's templates (templates_test.go) and formatter (formatter_test.go)", () => {
  const render = (tpl: string, data: unknown) => parseDockerTemplate(tpl).execute(data);

  test("TestParseJSONFunctions: json leaves <, > and & alone", () =>
    assert.equal(render("{{json .Ports}}", { Ports: "0.0.0.0:2->8/udp" }), '"0.0.0.0:2->8/udp"'));

  test("TestParseStringFunctions", () =>
    assert.equal(render('{{join (split . ":") "/"}}', "text:with:colon"), "text/with/colon"));

  test("TestNewParse: a named template", () => {
    const t = parseDockerTemplate("this is a {{ . }}", "foo");
    assert.equal(t.name, "foo");
    assert.equal(t.execute("string"), "this is a string");
  });

  describe("TestParseTruncateFunction", () => {
    const source = "tupx5xzf6hvsrhnruz5cr8gwp";
    const cases: [string, string][] = [
      ["{{truncate . 5}}", "tupx5"],
      ["{{truncate . 25}}", "tupx5xzf6hvsrhnruz5cr8gwp"],
      ["{{truncate . 30}}", "tupx5xzf6hvsrhnruz5cr8gwp"],
      ["{{pad . 3 3}}", "   tupx5xzf6hvsrhnruz5cr8gwp   "],
    ];
    for (const [tpl, want] of cases) {
      test(tpl, () => {
        assert.equal(render(tpl, source), want);
        assert.equal(render(tpl, ""), "");
        assert.throws(() => render(tpl, undefined), TemplateExecError);
      });
    }
  });

  test("TestHeaderFunctions: every header function leaves the header as it is", () => {
    for (const tpl of [
      "{{ json .}}",
      '{{ split . ","}}',
      '{{ join . ","}}',
      "{{ title .}}",
      "{{ lower .}}",
      "{{ upper .}}",
      "{{ truncate . 2}}",
    ]) {
      assert.equal(
        Template.new("").funcs(HEADER_FUNCS).parse(tpl).execute("hello world"),
        "hello world",
        tpl,
      );
    }
  });

  test("the other functions: title, lower, upper, split into runes", () => {
    assert.equal(render("{{title .}}", "hello wORLD-x_y"), "Hello WORLD-X_y");
    assert.equal(render("{{upper .}}|{{lower .}}", "straße İ"), "STRAßE İ|straße i");
    assert.equal(render('{{split . ""}}', "añb"), "[a ñ b]");
    assert.equal(render("{{truncate . 2}}", "añb"), "a\uFFFD");
  });

  test("TestContext: json and table formats of a context", () => {
    const rows = [{ Name: "test" }];
    assert.equal(
      capture((o) => printRows(rows, "json", "", {}, o)),
      '{"Name":"test"}\n',
    );
    assert.equal(
      capture((o) => printRows(rows, "table {{.Name}}", "", { Name: "NAME" }, o)),
      "NAME\ntest\n",
    );
  });

  test("TestImageContextWriteWithNoImage: a table of nothing is its header", () => {
    assert.equal(
      capture((o) => printRows([], "{{.Repository}}", "", { Repository: "REPOSITORY" }, o)),
      "",
    );
    assert.equal(
      capture((o) => printRows([], "table {{.Repository}}", "", { Repository: "REPOSITORY" }, o)),
      "REPOSITORY\n",
    );
  });

  test("json of a row is docker's formatter.MarshalJSON: sorted keys, HTML escaped", () => {
    const rows = [{ Tag: "<none>", ID: "abc", Labels: "a=b&c" }];
    assert.equal(
      capture((o) => printRows(rows, "{{json .}}", "", {}, o)),
      '{"ID":"abc","Labels":"a=b\\u0026c","Tag":"\\u003cnone\\u003e"}\n',
    );
  });

  test("a row lacks a field: docker's error, naming the row's Go type", () => {
    assert.throws(
      () => capture((o) => printRows([{ ID: "x" }], "{{.Nope}}", "", {}, o, "*formatter.imageContext")),
      (e: Error) =>
        e instanceof FormatError &&
        e.exitCode === 1 &&
        e.message ===
          'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext',
    );
    assert.throws(
      () => capture((o) => printRows([], "{{if}}", "", {}, o)),
      (e: Error) =>
        e instanceof FormatError &&
        e.message === "template parsing error: template: :1: missing value for if",
    );
  });
});

describe("Go's encoding/json (cli/format/json.ts)", () => {
  test("strings: <, > and & escaped unless asked not to; control characters as \\u00XX; U+2028/9", () => {
    assert.equal(goJson({ a: "<&>" }), '{"a":"\\u003c\\u0026\\u003e"}');
    assert.equal(goJson({ a: "<&>" }, { escapeHtml: false }), '{"a":"<&>"}');
    assert.equal(goJson('\u0001\b\f\n\r\t"\\'), '"\\u0001\\u0008\\u000c\\n\\r\\t\\"\\\\"');
    assert.equal(goJson("\u2028\u2029é"), '"\\u2028\\u2029é"');
  });

  test("maps sort their keys (as strings), structs keep their order", () => {
    assert.equal(goJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
    assert.equal(
      goJson(
        new Map([
          [10, "a"],
          [2, "b"],
        ]),
      ),
      '{"10":"a","2":"b"}',
    );
    assert.equal(goJson(goStruct({ b: 1, a: 2 })), '{"b":1,"a":2}');
    assert.equal(goJson({ b: 1, a: 2, c: undefined }, { plainObjects: "struct" }), '{"b":1,"a":2}');
  });

  test("numbers, bytes, times, nil", () => {
    assert.equal(goJson([100, 0.5, 1e21, 1e-7, -0]), "[100,0.5,1e+21,1e-7,0]");
    assert.equal(goJson(typed(sliceOf(UINT8), [1, 2, 3])), '"AQID"');
    assert.equal(goJson(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '"2024-01-02T03:04:05Z"');
    assert.equal(goJson(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120))), '"2024-01-02T03:04:05.12Z"');
    assert.equal(goJson(null), "null");
    assert.equal(goJson([]), "[]");
  });

  test("MarshalIndent's layout", () => {
    assert.equal(
      goJson({ a: [1, 2], b: {}, c: [] }, { indent: "  ", plainObjects: "struct" }),
      '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": []\n}',
    );
  });

  test("what encoding/json refuses", () => {
    assert.throws(() => goJson({ a: Number.NaN }), /json: unsupported value: NaN/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => goJson(cycle), /encountered a cycle/);
  });
});

describe("tables", () => {
  test("docker images default table: columns padded by 3, minimum width 10", () => {
    const rows = [
      { Repository: "alpine", Tag: "latest", ID: "0123456789ab", CreatedSince: "2 weeks ago", Size: "7.8MB" },
      {
        Repository: "registry.example.com/team/app",
        Tag: "v1",
        ID: "ba9876543210",
        CreatedSince: "3 years ago",
        Size: "23.6MB",
      },
    ];
    const out = capture((o) =>
      printRows(
        rows,
        undefined,
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
        {
          Repository: "REPOSITORY",
          Tag: "TAG",
          ID: "IMAGE ID",
          CreatedSince: "CREATED",
          Size: "SIZE",
        },
        o,
      ),
    );
    // Written out by hand from tabwriter's rules: width = max(cell) + 3, at least 10.
    assert.equal(
      out,
      [
        "REPOSITORY                      TAG       IMAGE ID       CREATED       SIZE",
        "alpine                          latest    0123456789ab   2 weeks ago   7.8MB",
        "registry.example.com/team/app   v1        ba9876543210   3 years ago   23.6MB",
        "",
      ].join("\n"),
    );
  });

  test("a plain template prints one line per row, and 'json' one object per row", () => {
    const rows = [{ A: "1" }, { A: "2" }];
    assert.equal(
      capture((o) => printRows(rows, "{{.A}}", "table {{.A}}", {}, o)),
      "1\n2\n",
    );
    assert.equal(
      capture((o) => printRows(rows, "json", "table {{.A}}", {}, o)),
      '{"A":"1"}\n{"A":"2"}\n',
    );
    assert.equal(
      capture((o) => printRows(rows, "table {{.A}}\\t{{.A}}", "", { A: "AAA" }, o)),
      "AAA       AAA\n1         1\n2         2\n",
    );
  });

  test("a plain table (ps without --format) prints what its default template would", () => {
    const headers = { ID: "CONTAINER ID", Names: "NAMES", Status: "STATUS" };
    const columns = ["ID", "Status", "Names"];
    const template = "table {{.ID}}\t{{.Status}}\t{{.Names}}";
    const cell = fc.string({ maxLength: 14 }).filter((s) => !/[\t\n\v\f{}]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.record({ ID: cell, Status: cell, Names: cell }), { maxLength: 6 }), (rows) => {
        assert.equal(
          plainTable(columns, headers, rows),
          capture((o) => printRows(rows, undefined, template, headers, o)),
        );
      }),
    );
    assert.equal(
      plainTable(columns, headers, [{ ID: "0123456789ab", Status: "Up 2 seconds", Names: "名前" }]),
      "CONTAINER ID   STATUS         NAMES\n0123456789ab   Up 2 seconds   名前\n",
    );
  });

  test("property: every cell of a column starts at the same offset, min width 10, padding 3", () => {
    // Cells without spaces, so that each line's cells can be found again in the output.
    const cell = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[!-~]+$/.test(s));
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        (rows) => {
          const out = tabwrite(rows.map((r) => `${r.join("\t")}\n`).join(""));
          const lines = out.split("\n").slice(0, rows.length);
          const starts = lines.map((line) => [...line.matchAll(/\S+/g)].map((m) => m.index));
          lines.forEach((_, i) => {
            assert.deepEqual(lines[i]!.split(/ +/), rows[i], "each line holds its row's cells, in order");
          });
          let expected = 0;
          for (let col = 0; col < 3; col++) {
            const offsets = new Set(starts.map((s) => s[col]));
            assert.equal(offsets.size, 1, `column ${col} starts at one offset on every line`);
            assert.equal([...offsets][0], expected, `column ${col} starts after the widths before it`);
            expected += Math.max(10, Math.max(...rows.map((r) => r[col]!.length)) + 3);
          }
        },
      ),
    );
  });
});
