// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words hold ${VAR} literally
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExpansionError, envLookup, processWord, processWords } from "../../src/build/expand.js";
import { ENV_VAR_CASES } from "./shell-cases.js";

const env = envLookup({ PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" });

describe("processWord: BuildKit's lexer vectors", () => {
  for (const [source, expected] of ENV_VAR_CASES) {
    it(`${source} → ${expected ?? "error"}`, () => {
      if (expected === null) assert.throws(() => processWord(source, env), ExpansionError);
      else assert.equal(processWord(source, env), expected);
    });
  }
});

describe("processWord: modifiers and options", () => {
  const vars = envLookup({ FILE: "archive.tar.gz", EMPTY: "", V: "a-b-c", PATH_: "/usr/local/bin" });
  const cases: [string, string][] = [
    ["${FILE%.*}", "archive.tar"],
    ["${FILE%%.*}", "archive"],
    ["${FILE#*.}", "tar.gz"],
    ["${FILE##*.}", "gz"],
    ["${V/-/+}", "a+b-c"],
    ["${V//-/+}", "a+b+c"],
    ["${PATH_#/usr}", "/local/bin"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${UNSET-dflt}", "dflt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
  ];
  for (const [source, expected] of cases)
    it(`${source} → ${expected}`, () => assert.equal(processWord(source, vars), expected));

  it("names the unset variable of ${X?} and ${X:?msg}", () => {
    assert.throws(() => processWord("${UNSET?}", vars), /UNSET: is not allowed to be unset/);
    assert.throws(() => processWord("${EMPTY:?must be set}", vars), /EMPTY: must be set/);
  });

  it("keeps quotes with rawQuotes and unset variables with skipUnset (RUN's step names)", () => {
    assert.equal(
      processWord(`echo "$FILE" '$V' $NOPE \${NOPE}`, vars, { rawQuotes: true, skipUnset: true }),
      `echo "archive.tar.gz" '$V' $NOPE \${NOPE}`,
    );
  });

  it("takes the escape directive's backtick as the escape character", () => {
    assert.equal(processWord("C:`\\dir `$FILE", vars, { escape: "`" }), "C:\\dir $FILE");
    assert.equal(processWord("a\\b", vars, { escape: "`" }), "a\\b");
  });

  it("leaves heredoc openers alone", () => {
    assert.equal(processWord("<<EOF", vars), "<<EOF");
    assert.equal(processWord("a < b", vars), "a < b");
  });
});

describe("processWords: BuildKit's word-splitting vectors (frontend/dockerfile/shell/wordsTest)", () => {
  const vars = envLookup({ hi: "hi", space: "abc  def", leading: "  ab c", trailing: "ab c   " });
  const cases: [string, string[] | null][] = [
    ["hello", ["hello"]],
    ["hello${hi}bye", ["hellohibye"]],
    ["hello${space}bye", ["helloabc", "defbye"]],
    ['hello"${space}"bye', ["helloabc  defbye"]],
    ['hello "${space}"bye', ["hello", "abc  defbye"]],
    ["hello${leading}def", ["hello", "ab", "cdef"]],
    ['hello"${leading}" def', ["hello  ab c", "def"]],
    ['hello"${leading}"', ["hello  ab c"]],
    ["hello${leading}", ["hello", "ab", "c"]],
    ["hello${trailing}", ["helloab", "c"]],
    ["hello${trailing}d", ["helloab", "c", "d"]],
    ['hello"${trailing}"d', ["helloab c   d"]],
    ['hel"lo${trailing}"', ["helloab c   "]],
    ['hello" there  "', ["hello there  "]],
    ["hello there", ["hello", "there"]],
    ["hello\\ there", ["hello there"]],
    ['hello" there', null],
    ['hello\\" there', ['hello"', "there"]],
    ['hello"\\\\there"', ["hello\\there"]],
    ['hello"\\there"', ["hello\\there"]],
    ["hello'\\\\there'", ["hello\\\\there"]],
    ["hello'\\there'", ["hello\\there"]],
    ["hello'$there'", ["hello$there"]],
  ];
  for (const [source, expected] of cases) {
    it(`${source} → ${expected?.join(",") ?? "error"}`, () => {
      if (expected === null) assert.throws(() => processWords(source, vars), ExpansionError);
      else assert.deepEqual(processWords(source, vars), expected);
    });
  }
});
