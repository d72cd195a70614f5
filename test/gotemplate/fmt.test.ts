import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sprint, sprintf, sprintln } from "../../src/gotemplate/fmt.js";
import { formatFloat } from "../../src/gotemplate/strconv.js";
import { INT, STRING, sliceOf, UINT8 } from "../../src/gotemplate/types.js";
import { toValue, typed } from "../../src/gotemplate/values.js";
import { FMT_CASES } from "./fmt-table.js";

describe("fmt_test.go fmtTests", () => {
  FMT_CASES.forEach(([format, value, out], i) => {
    test(`#${i} ${format} ${JSON.stringify(out)}`, () =>
      assert.equal(sprintf(format, [toValue(value)]), out));
  });
});

describe("fmt's argument handling", () => {
  const v = (x: unknown) => toValue(x);
  test("missing, extra and reordered arguments", () => {
    assert.equal(sprintf("%d %d", [v(1)]), "1 %!d(MISSING)");
    assert.equal(sprintf("%d", [v(1), v("x"), v(2.5)]), "1%!(EXTRA string=x, float64=2.5)");
    assert.equal(sprintf("%[2]d %[1]d", [v(1), v(2)]), "2 1");
    assert.equal(sprintf("%[3]d", [v(1), v(2)]), "%!d(BADINDEX)");
    assert.equal(sprintf("%*d|%-*d|%.*f", [v(5), v(42), v(4), v(7), v(2), v(1.23456)]), "   42|7   |1.23");
    assert.equal(sprintf("%*d", [v("x"), v(1)]), "%!(BADWIDTH)1");
    assert.equal(sprintf("%", []), "%!(NOVERB)");
    assert.equal(sprintf("%d", [v("hi")]), "%!d(string=hi)");
    assert.equal(sprintf("%!", []), "%!!(MISSING)");
  });

  test("Sprint puts spaces between operands that are not strings; Sprintln between all", () => {
    assert.equal(sprint([v(1), v(2), v("a"), v(3), v("b"), v("c")]), "1 2a3bc");
    assert.equal(sprintln([v(1), v("a"), v(undefined)]), "1 a <nil>\n");
  });

  test("%v of composite values", () => {
    assert.equal(sprintf("%v", [v({ b: 2, a: 1 })]), "map[a:1 b:2]");
    assert.equal(
      sprintf("%v", [
        v(
          new Map([
            [2, "x"],
            [10, "y"],
            [1, "z"],
          ]),
        ),
      ]),
      "map[1:z 2:x 10:y]",
    );
    assert.equal(sprintf("%v", [v(["a", "b"])]), "[a b]");
    assert.equal(sprintf("%q", [v(["a", "b"])]), '["a" "b"]');
    assert.equal(sprintf("%x", [v(typed(sliceOf(UINT8), [1, 171]))]), "01ab");
    assert.equal(sprintf("%s", [v(typed(sliceOf(UINT8), Buffer.from("hi")))]), "hi");
    assert.equal(sprintf("%T %T", [v(typed(sliceOf(INT), [1])), v(undefined)]), "[]int <nil>");
    assert.equal(sprintf("%v", [v(null)]), "<nil>");
    assert.equal(sprintf("%d", [v(typed(STRING, "x"))]), "%!d(string=x)");
  });

  test("strconv.FormatFloat", () => {
    assert.equal(formatFloat(1e21, "g", -1), "1e+21");
    assert.equal(formatFloat(123456789, "g", -1), "1.23456789e+08");
    assert.equal(formatFloat(0.000012, "g", -1), "1.2e-05");
    assert.equal(formatFloat(2.5, "f", 0), "2");
    assert.equal(formatFloat(3.5, "f", 0), "4");
    assert.equal(formatFloat(1.5, "x", -1), "0x1.8p+00");
  });
});
