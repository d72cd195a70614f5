// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words hold ${VAR} literally
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDockerfile, parseTrigger } from "../../src/build/dockerfile.js";
import { DockerfileSyntaxError } from "../../src/build/errors.js";
import type { CopyInstruction, RunInstruction } from "../../src/build/instructions.js";

describe("parseDockerfile", () => {
  it("reads directives, global ARGs, stages and instruction forms", () => {
    const df = parseDockerfile(
      [
        "# syntax=docker/dockerfile:1",
        "ARG BASE=busybox VERSION",
        "FROM ${BASE} AS Base",
        "ENV A=1 B=\"two words\" C='single $x'",
        "RUN echo hi \\",
        "  && echo there",
        'RUN ["sh", "-c", "echo  json"]',
        "COPY --from=base --chown=app:app --chmod=0640 --link a.txt b/ /dest/",
        "FROM base",
        "CMD echo hi",
        'ENTRYPOINT ["/bin/sh", "-c"]',
        "VOLUME /a /b",
        'VOLUME ["/c"]',
        "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/",
        "HEALTHCHECK NONE",
        'SHELL ["/bin/bash", "-c"]',
        "ONBUILD RUN echo ob",
        "EXPOSE 80 443/udp",
        "STOPSIGNAL SIGTERM",
        "USER app:app",
        'WORKDIR "/my dir"',
      ].join("\n"),
    );
    assert.equal(df.syntax, "docker/dockerfile:1");
    assert.equal(df.escape, "\\");
    assert.deepEqual(df.globalArgs[0]!.args, [{ key: "BASE", value: "busybox" }, { key: "VERSION" }]);
    assert.equal(df.stages.length, 2);
    const [first, second] = df.stages;
    assert.equal(first!.name, "base");
    assert.equal(first!.from.image, "${BASE}");
    assert.equal(first!.from.loc.line, 3);
    assert.deepEqual(
      (first!.instructions[0] as { pairs: unknown }).pairs,
      [
        { key: "A", value: "1" },
        { key: "B", value: '"two words"' },
        { key: "C", value: "'single $x'" },
      ],
      "values keep their quotes until expansion decides what they mean",
    );
    const run = first!.instructions[1] as RunInstruction;
    assert.deepEqual(run.command, { form: "shell", text: "echo hi   && echo there" });
    assert.deepEqual(run.loc, { file: "Dockerfile", line: 5, endLine: 6 });
    assert.deepEqual((first!.instructions[2] as RunInstruction).command, {
      form: "exec",
      args: ["sh", "-c", "echo  json"],
    });
    const copy = first!.instructions[3] as CopyInstruction;
    assert.deepEqual(
      {
        sources: copy.sources,
        dest: copy.dest,
        from: copy.from,
        chown: copy.chown,
        chmod: copy.chmod,
        link: copy.link,
      },
      { sources: ["a.txt", "b/"], dest: "/dest/", from: "base", chown: "app:app", chmod: "0640", link: true },
    );
    assert.equal(copy.original, "COPY --from=base --chown=app:app --chmod=0640 --link a.txt b/ /dest/");
    assert.equal(second!.name, undefined);
    const kinds = second!.instructions.map((i) => i.kind);
    assert.deepEqual(kinds, [
      "CMD",
      "ENTRYPOINT",
      "VOLUME",
      "VOLUME",
      "HEALTHCHECK",
      "HEALTHCHECK",
      "SHELL",
      "ONBUILD",
      "EXPOSE",
      "STOPSIGNAL",
      "USER",
      "WORKDIR",
    ]);
    const [, , vol1, vol2, hc, none, shell, onbuild] = second!.instructions as unknown as Record<
      string,
      unknown
    >[];
    assert.deepEqual(vol1!.volumes, ["/a", "/b"]);
    assert.deepEqual(vol2!.volumes, ["/c"]);
    assert.deepEqual(hc!.check, {
      test: ["CMD-SHELL", "curl -f http://localhost/"],
      interval: 5e9,
      timeout: 0,
      startPeriod: 0,
      startInterval: 0,
      retries: 3,
    });
    assert.equal(none!.check, undefined);
    assert.deepEqual(shell!.shell, ["/bin/bash", "-c"]);
    assert.equal(onbuild!.expression, "RUN echo ob");
  });

  it("reads heredocs: bodies with their newline, <<- strips tabs, quoted names do not expand", () => {
    const df = parseDockerfile(
      [
        "FROM scratch",
        'COPY <<-"EOF" <<E2 /x/',
        "\thello $A",
        "EOF",
        "world",
        "E2",
        "RUN <<EOF",
        "echo a",
        "echo b",
        "EOF",
      ].join("\n"),
    );
    const copy = df.stages[0]!.instructions[0] as CopyInstruction;
    assert.deepEqual(copy.sources, []);
    assert.deepEqual(copy.heredocs, [
      { name: "EOF", content: "hello $A\n", expand: false },
      { name: "E2", content: "world\n", expand: true },
    ]);
    assert.equal(copy.dest, "/x/");
    const run = df.stages[0]!.instructions[1] as RunInstruction;
    assert.deepEqual(run.command, { form: "shell", text: "<<EOF" });
    assert.deepEqual(run.heredocs, [{ name: "EOF", content: "echo a\necho b\n", expand: true }]);
  });

  it("takes the escape directive", () => {
    const df = parseDockerfile(["# escape=`", "FROM scratch", "RUN echo a `", "  b"].join("\n"));
    assert.equal(df.escape, "`");
    assert.deepEqual((df.stages[0]!.instructions[0] as RunInstruction).command, {
      form: "shell",
      text: "echo a   b",
    });
  });

  const bad: [string, string, RegExp][] = [
    [
      "unknown instruction",
      "FROM busybox\nBOGUS foo",
      /^Dockerfile:2: dockerfile parse error on line 2: unknown instruction: BOGUS$/,
    ],
    [
      "instruction before FROM",
      "RUN true\nFROM busybox",
      /^Dockerfile:1: no build stage in current context$/,
    ],
    ["no FROM at all", "# nothing\n", /no FROM/],
    ["FROM with two words", "FROM a b", /^Dockerfile:1: .*FROM requires either one or three arguments$/],
    ["bad stage name", "FROM a AS 1st", /invalid name for build stage: "1st"/],
    ["duplicate stage name", "FROM a AS x\nFROM b AS X", /^Dockerfile:2: duplicate stage name "x"$/],
    [
      "COPY without destination",
      "FROM a\nCOPY only",
      /^Dockerfile:2: .*COPY requires at least two arguments/,
    ],
    ["RUN without command", "FROM a\nRUN", /RUN requires at least one argument/],
    ["ENV without value", "FROM a\nENV A", /ENV must have two arguments/],
    ["unknown flag", "FROM a\nCOPY --bogus=1 a b", /unknown flag: bogus/],
    [
      "unsupported RUN --mount",
      "FROM a\nRUN --mount=type=cache,target=/x true",
      /RUN --mount is not supported/,
    ],
    ["SHELL not in JSON", "FROM a\nSHELL /bin/bash -c", /SHELL requires the arguments to be in JSON form/],
    ["ONBUILD ONBUILD", "FROM a\nONBUILD ONBUILD RUN x", /Chaining ONBUILD/],
    ["ONBUILD FROM", "FROM a\nONBUILD FROM b", /FROM isn't allowed as an ONBUILD trigger/],
    ["HEALTHCHECK bad type", "FROM a\nHEALTHCHECK RUN x", /Unknown type "RUN" in HEALTHCHECK/],
    ["HEALTHCHECK bad duration", "FROM a\nHEALTHCHECK --interval=5 CMD x", /invalid duration "5"/],
    [
      "HEALTHCHECK negative retries",
      "FROM a\nHEALTHCHECK --retries=-1 CMD x",
      /--retries cannot be negative/,
    ],
    ["WORKDIR without path", "FROM a\nWORKDIR", /WORKDIR requires exactly one argument/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}, naming the file and line`, () => {
      assert.throws(
        () => parseDockerfile(text),
        (err: unknown) => err instanceof DockerfileSyntaxError && message.test(err.message),
      );
    });
  }

  it("names a Dockerfile given with -f by its path", () => {
    assert.throws(
      () => parseDockerfile("FROM a\n\nNOPE", "build/app.Dockerfile"),
      (err: Error) => err.message.startsWith("build/app.Dockerfile:3: "),
    );
  });
});

describe("parseTrigger", () => {
  it("parses an ONBUILD expression as one instruction located at the FROM that runs it", () => {
    const at = { file: "Dockerfile", line: 4, endLine: 4 };
    const ins = parseTrigger("COPY --chown=1 a /b", at) as CopyInstruction;
    assert.equal(ins.kind, "COPY");
    assert.deepEqual(ins.sources, ["a"]);
    assert.equal(ins.chown, "1");
    assert.deepEqual(ins.loc, at);
    assert.throws(() => parseTrigger("FROM x", at), /FROM isn't allowed/);
  });
});
