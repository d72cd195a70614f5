import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { FormatError } from "../../src/cli/format/errors.js";
import { renderFormatted } from "../../src/cli/format/table.js";
import { run, tempDir } from "../helpers/processes.js";

/**
 * The docker CLI as the oracle: each template runs through `docker context ls --format` (real Go,
 * the go1.24 the docker CLI 28 was built with; no daemon needed) and through Berth's formatter on
 * the same row, and the two must print the same text or fail with the same line. The templates
 * exercise printf's verbs, comparisons, index/slice, and/or, range over integers, {{else with}},
 * define/template/block, trim markers, number literals, and parse and execution errors.
 */
const TEMPLATES: readonly string[] = [
  '{{printf "%5.2f|%-8s|%08.3f|%x|%X|%o|%b|%c|%q|%U" 3.14159 "ab" -2.5 255 255 8 5 65 "hi" 0x1F600}}',
  '{{printf "%v %d %s" 1 2}}',
  '{{printf "%d" "x"}}',
  '{{printf "%!" 1}}',
  '{{printf "%[2]d %[1]d" 1 2}}',
  '{{printf "%*d|" 5 3}}',
  '{{printf "%.3s|%10.1e|%g|%G|%e" "abcdef" 12345.678 1e21 1e-7 0.000001}}',
  '{{printf "%t %v %T %T %T" true nil 1 1.5 "s"}}',
  '{{printf "%#x %#o %+d % d %x" 255 8 5 5 "hello"}}',
  '{{printf "%6.2f%%" 99.5}}',
  '{{print 1 2 "a" "b" 3 nil}}',
  '{{println "a" 1 nil}}',
  '{{eq 1 1}} {{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2.5}}',
  "{{eq 1 1.0}}",
  '{{lt "a" 1}}',
  "{{eq nil nil}}",
  "{{lt nil 1}}",
  '{{and 1 2}} {{and 0 2}} {{or 0 ""}} {{or 0 "x"}} {{not ""}} {{not 1}}',
  '{{len "héllo"}} {{index "héllo" 1}} {{slice "héllo" 0 1}}',
  '{{slice "abc" 1 2}} {{slice "abc"}} {{slice "abc" 2}}',
  '{{slice "abc" 2 1}}',
  '{{slice "abc" -1}}',
  '{{index "abc" -1}}',
  '{{index "abc" "x"}}',
  "{{index nil 1}}",
  "{{range $i, $e := 3}}{{end}}",
  "{{range $i := 3}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}",
  "{{range $x := 2}}{{range $y := 2}}{{$x}}{{$y}} {{end}}{{end}}",
  "{{range 5}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
  '{{with 0}}a{{else with ""}}b{{else with 2}}c{{.}}{{else}}d{{end}}',
  "{{if 0}}a{{else if 0}}b{{else}}c{{end}}",
  "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}",
  "{{$x := 1}}{{with $x := 2}}{{$x}}{{end}}{{$x}}",
  '{{define "a"}}[{{.}}]{{end}}{{template "a" 5}}{{template "a" "x"}}',
  '{{block "b" 3}}<{{.}}>{{end}}',
  '{{template "nope"}}',
  '{{html "<a href=\'x\'>&\\"</a>"}} {{js "<a>\'\\"\\\\\\u2028"}} {{urlquery "a b/c?d=e&f"}}',
  '{{html 1 2 "x"}} {{js 1}} {{urlquery nil}}',
  '{{1 | printf "%d-%s" 2}}',
  '{{"x" | printf "%s%s" "y"}}',
  '{{(printf "%d" 1) | len}}',
  "{{3 | len}}",
  "{{nil}}",
  "{{.Nope}}",
  "{{.Client.Version.Foo}}",
  "{{.Client.Version 1}}",
  "{{len .Client}}",
  '{{index .Client "Version"}}',
  "{{call 1}}",
  "{{call nil}}",
  "{{call}}",
  "{{1 2}}",
  '{{"a" | 1}}',
  "{{0x10}} {{0o17}} {{0b101}} {{1_000}} {{'a'}} {{1e3}} {{.5}} {{0x1p4}} {{1.0}}",
  '{{1i}} {{1+2i}} {{printf "%v %T" 1i 1i}}',
  '{{printf "%v" 9223372036854775807}}',
  "{{9223372036854775808}}",
  "{{-9223372036854775808}}",
  '{{printf "%d %v" -0 -0.0}}',
  '{{printf "%08.3f|%-8.3f|%+.2e" 3.14159 3.14159 12345.0}}',
  '{{printf "%x %X" "héllo" "hi"}}',
  '{{printf "% x" "abc"}}',
  '{{printf "%10q|%-10q|" "a" "b"}}',
  '{{printf "%c%c%c" 72 105 0x1F600}}',
  '{{printf "%U %#U" 0x1F600 65}}',
  '{{printf "%5t|%-5t|" true false}}',
  '{{printf "%v" (slice "abc" 0 2)}}',
  '{{$x := "a"}}{{$y := $x}}{{$x = "b"}}{{$y}}{{$x}}',
  '{{ /* comment */ }}a{{- " b " -}} c {{- 1 }}',
  '{{- "x" -}}  {{ "y" }}',
  "{{if}}",
  "{{range}}",
  "{{end}}",
  "{{else}}",
  "{{if 1}}",
  "{{.X.}}",
  "{{$undefined}}",
  '{{printf "%s" (1)}}',
  "{{1 | not | not}}",
  '{{"abc" | len | printf "%03d"}}',
  '{{printf "%s" nil}}',
  '{{printf "%d" nil}}',
  '{{printf "%v" (index "a" 0)}}',
  "{{eq (index \"a\" 0) 'a'}}",
  "{{lt 1 2.5}}",
  '{{lt (len "ab") 3}}',
  '{{printf "%.2f" 1}}',
  '{{printf "%d" 1.5}}',
  "{{printf \"%s %v\" true 'x'}}",
];

/** docker's `context ls` row for the default context, as `{{json .}}` shows it with no DOCKER_HOST. */
const DEFAULT_CONTEXT = {
  Current: true,
  Description: "Current DOCKER_HOST based configuration",
  DockerEndpoint: "unix:///var/run/docker.sock",
  Error: "",
  Name: "default",
};

function berth(format: string): { out: string; err: string } {
  try {
    const out = renderFormatted(format, [{ ...DEFAULT_CONTEXT }], {
      defaultTable: "",
      headers: {},
      typeName: "*formatter.clientContextContext",
    });
    return { out, err: "" };
  } catch (e) {
    if (e instanceof FormatError) return { out: "", err: `${e.message}\n` };
    throw e;
  }
}

describe("templates through docker's own Go, and through Berth", () => {
  let env: NodeJS.ProcessEnv;
  before(async () => {
    // A configuration of its own, so that only the default context is listed.
    env = { DOCKER_CONFIG: await tempDir("berth-docker-config-"), DOCKER_HOST: "", DOCKER_CONTEXT: "" };
    const probe = await run("docker", ["context", "ls", "--format", "{{json .}}"], { env });
    assert.equal(probe.code, 0, `docker context ls: ${probe.stderr}`);
    assert.deepEqual(JSON.parse(probe.stdout), DEFAULT_CONTEXT);
  });

  for (const format of TEMPLATES) {
    test(format, async () => {
      const docker = await run("docker", ["context", "ls", "--format", format], { env });
      const ours = berth(format);
      assert.equal(ours.err, docker.stderr, "the same error, word for word");
      assert.equal(ours.out, docker.stdout, "the same output");
      assert.equal(ours.err === "" ? 0 : 1, docker.code);
    });
  }
});
