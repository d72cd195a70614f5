import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { plainTable } from "../../src/cli/format/columns.js";
import { tabwrite } from "../../src/cli/format/tabwriter.js";
import { goJson, renderTemplate, TemplateError } from "../../src/cli/format/template.js";
import { ellipsis, humanDuration, humanSize, truncateId } from "../../src/cli/format/units.js";
import { printRows } from "../../src/cli/output.js";

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

describe("Go templates", () => {
  const row = {
    Repository: "alpine",
    Tag: "latest",
    Labels: { b: "2", a: "1" },
    List: ["x", "y"],
    Empty: "",
  };
  const cases: [string, string][] = [
    ["{{.Repository}}:{{.Tag}}", "alpine:latest"],
    ["{{json .Labels}}", '{"a":"1","b":"2"}'], // Go sorts map keys when encoding JSON
    ['{{index .Labels "a"}}', "1"],
    ['{{join .List ", "}}', "x, y"],
    ["{{upper .Tag}}", "LATEST"],
    ["{{.List}}", "[x y]"],
    ["{{.Labels}}", "map[a:1 b:2]"],
    ["{{if .Empty}}yes{{else}}no{{end}}", "no"],
    ["{{range .List}}<{{.}}>{{end}}", "<x><y>"],
    ["a {{- .Tag -}} b", "alatestb"],
  ];
  for (const [tpl, want] of cases)
    test(`${tpl} -> ${want}`, () => assert.equal(renderTemplate(tpl, row), want));

  test("json escapes like Go's encoding/json", () =>
    assert.equal(goJson({ a: "<&>" }), '{"a":"\\u003c\\u0026\\u003e"}'));

  test("an unknown field is a template error", () => {
    assert.throws(() => renderTemplate("{{.Nope}}", row), TemplateError);
    assert.throws(() => renderTemplate("{{nofunc .Tag}}", row), TemplateError);
    assert.throws(() => renderTemplate("{{if .Tag}}unclosed", row), TemplateError);
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

  test("property: every cell of a column starts at the same offset", () => {
    const cell = fc
      .string({ minLength: 0, maxLength: 12 })
      .filter((s) => !/[\t\n]/.test(s) && [...s].length === s.length);
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        (rows) => {
          const out = tabwrite(rows.map((r) => `${r.join("\t")}\n`).join(""));
          const lines = out.split("\n").slice(0, rows.length);
          for (let col = 1; col < 3; col++) {
            const offsets = new Set(
              lines.map((_, i) =>
                rows[i]!.slice(0, col).reduce(
                  (acc, _c, j) => acc + Math.max(10, Math.max(...rows.map((r) => r[j]!.length)) + 3),
                  0,
                ),
              ),
            );
            assert.equal(offsets.size, 1);
            const offset = [...offsets][0]!;
            lines.forEach((line, i) => {
              assert.equal(line.slice(offset, offset + rows[i]![col]!.length), rows[i]![col]);
            });
          }
        },
      ),
    );
  });
});
