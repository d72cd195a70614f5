// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile words hold ${VAR} literally
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { globalScope, parseBuildArgs, platformArgs } from "../../src/build/args.js";
import { parseDockerfile } from "../../src/build/dockerfile.js";
import { formatGoDuration, parseGoDuration } from "../../src/build/durations.js";
import {
  baseFromImage,
  exposedPorts,
  normalizeWorkdir,
  resolveDest,
  StageEvaluator,
  type Step,
} from "../../src/build/evaluate.js";
import { goQuote, settleHistoryTimes } from "../../src/build/history.js";
import type { ImageConfig } from "../../src/oci/manifest.js";

const BUSYBOX: ImageConfig = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
  rootfs: { type: "layers", diff_ids: [`sha256:${"1".repeat(64)}`] },
  history: [{ created: "2023-11-14T22:13:20Z", created_by: "/bin/sh -c #(nop) ADD dir:busybox in /" }],
};

const PLATFORM = platformArgs({ os: "linux", architecture: "amd64" });

/** Evaluates the last stage of a Dockerfile over busybox's config; layer steps get no time. */
function evaluate(text: string, buildArgs: Record<string, string> = {}, base = BUSYBOX) {
  const df = parseDockerfile(text);
  const args = new Map(Object.entries(buildArgs));
  const globals = globalScope(df.globalArgs, args, PLATFORM, df.escape);
  const ev = new StageEvaluator(baseFromImage(base), {
    escape: df.escape,
    buildArgs: args,
    globals,
    network: "default",
  });
  const steps: Step[] = [];
  for (const ins of df.stages.at(-1)!.instructions) {
    const step = ev.apply(ins);
    if (step) {
      steps.push(step);
      ev.layerHistory(step, undefined);
    }
  }
  const added = ev.config.history!.slice(base.history?.length ?? 0);
  return { ev, steps, createdBy: added.map((h) => h.created_by), added, globals };
}

describe("StageEvaluator: history as BuildKit writes it", () => {
  it("one entry per instruction, empty_layer for metadata, # buildkit for RUN and COPY", () => {
    const { createdBy, added } = evaluate(
      [
        "FROM busybox",
        "ENV GREETING=hi NAME=world",
        "LABEL org.example.a=1 b=two",
        "ARG VERSION=1.0",
        "RUN echo $GREETING",
        "COPY hello.txt ./",
        "COPY --chown=app:app --chmod=640 a b /srv/",
        "WORKDIR /srv/app",
        "USER app",
        "EXPOSE 8080 53/udp",
        "VOLUME /data /cache",
        "STOPSIGNAL SIGINT",
        'SHELL ["/bin/sh", "-ec"]',
        "CMD echo hi",
        'ENTRYPOINT ["/bin/sh", "-c"]',
        "HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD true",
        "MAINTAINER someone",
        "ONBUILD RUN echo child",
      ].join("\n"),
    );
    assert.deepEqual(createdBy, [
      "ENV GREETING=hi NAME=world",
      "LABEL org.example.a=1 b=two",
      "ARG VERSION=1.0",
      "RUN |1 VERSION=1.0 /bin/sh -c echo $GREETING # buildkit",
      "COPY hello.txt ./ # buildkit",
      "COPY --chown=app:app --chmod=640 a b /srv/ # buildkit",
      "WORKDIR /srv/app",
      "USER app",
      "EXPOSE [53/udp 8080/tcp]",
      "VOLUME [/data /cache]",
      "STOPSIGNAL SIGINT",
      "SHELL [/bin/sh -ec]",
      'CMD ["/bin/sh" "-ec" "echo hi"]',
      'ENTRYPOINT ["/bin/sh" "-c"]',
      "HEALTHCHECK {Test:[CMD-SHELL true] Interval:30s Timeout:5s StartPeriod:0s StartInterval:0s Retries:2}",
      "MAINTAINER someone",
    ]);
    const empty = added.map((h) => h.empty_layer === true);
    assert.deepEqual(empty, [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    for (const h of added) assert.equal(h.comment, "buildkit.dockerfile.v0");
  });

  it("RUN in exec form is not given a shell; SHELL changes the shell of later shell forms", () => {
    const { steps, createdBy } = evaluate(
      [
        "FROM busybox",
        'RUN ["echo", "a b"]',
        'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
        "RUN echo x | wc -c",
      ].join("\n"),
    );
    assert.deepEqual(
      steps.map((s) => s.action.kind === "run" && s.action.args),
      [
        ["echo", "a b"],
        ["/bin/ash", "-eo", "pipefail", "-c", "echo x | wc -c"],
      ],
    );
    assert.equal(createdBy[0], "RUN echo a b # buildkit");
  });

  it("a RUN heredoc is the script; a heredoc in a command line is given to the shell with its body", () => {
    const { steps } = evaluate(
      [
        "FROM busybox",
        "RUN <<EOF",
        "echo one",
        "echo two",
        "EOF",
        "RUN cat <<EOT > /out",
        "data",
        "EOT",
      ].join("\n"),
    );
    assert.deepEqual(
      steps.map((s) => s.action.kind === "run" && s.action.args),
      [
        ["/bin/sh", "-c", "echo one\necho two\n"],
        ["/bin/sh", "-c", "cat <<EOT > /out\ndata\nEOT"],
      ],
    );
  });
});

describe("StageEvaluator: variables", () => {
  it("ENV sees the variables as they were before the instruction", () => {
    const { ev } = evaluate(
      ["FROM busybox", "ENV abc=hello", "ENV abc=bye def=$abc", "ENV ghi=$abc"].join("\n"),
    );
    assert.deepEqual(ev.config.config!.Env, ["PATH=/bin", "abc=bye", "def=hello", "ghi=bye"]);
  });

  it("expands ${VAR:-default} and ${VAR:+alt} in COPY, WORKDIR, USER, LABEL, EXPOSE", () => {
    const { steps, ev } = evaluate(
      [
        "FROM busybox",
        "ENV DIR=/opt PORT=9000 SET=1",
        "COPY ${SRC:-src}/ ${DIR}/${SUB:-app}/",
        "WORKDIR ${DIR:+$DIR/work}",
        "USER ${U:-nobody}",
        'LABEL "x.${SET:+on}"="${NOPE:-off}"',
        "EXPOSE $PORT",
      ].join("\n"),
    );
    const copy = steps[0]!.action;
    assert.ok(copy.kind === "copy");
    assert.deepEqual(copy.sources, ["src/"]);
    assert.equal(copy.dest, "/opt/app/");
    assert.equal(ev.config.config!.WorkingDir, "/opt/work");
    assert.equal(ev.config.config!.User, "nobody");
    assert.deepEqual(ev.config.config!.Labels, { "x.on": "off" });
    assert.deepEqual(ev.config.config!.ExposedPorts, { "9000/tcp": {} });
  });

  it("ARG scoping: global ARGs only in FROM until redeclared; --build-arg wins; ENV overrides a prior ARG", () => {
    const text = [
      "ARG BASE=busybox",
      "ARG TAG",
      "FROM ${BASE}",
      "RUN echo [$BASE]",
      "ARG BASE",
      "ARG LOCAL=${BASE}-x",
      "ARG FROM_CLI=dflt",
      "ENV LOCAL=env-wins",
      "RUN echo $LOCAL",
    ].join("\n");
    const { steps, createdBy, globals } = evaluate(text, { FROM_CLI: "cli", TAG: "1.2" });
    assert.equal(globals.get("BASE"), "busybox");
    assert.equal(globals.get("TAG"), "1.2");
    const [first, second] = steps.map((s) => s.action);
    assert.ok(first?.kind === "run" && second?.kind === "run");
    assert.ok(
      !first.env.some((e) => e.startsWith("BASE=")),
      "a global ARG is not in a stage until redeclared",
    );
    assert.ok(second.env.includes("BASE=busybox"));
    assert.ok(second.env.includes("FROM_CLI=cli"));
    assert.ok(second.env.includes("LOCAL=env-wins"));
    assert.equal(createdBy[1], "ARG BASE=busybox");
    assert.equal(createdBy[2], "ARG LOCAL=busybox-x");
    assert.equal(createdBy[3], "ARG FROM_CLI=cli");
    assert.equal(
      createdBy.at(-1),
      "RUN |3 BASE=busybox LOCAL=env-wins FROM_CLI=cli /bin/sh -c echo $LOCAL # buildkit",
    );
  });

  it("an ARG without a value that nothing sets is declared but empty in RUN's history", () => {
    const { steps, createdBy } = evaluate(["FROM busybox", "ARG NOTHING", "RUN true"].join("\n"));
    assert.equal(createdBy[0], "ARG NOTHING");
    assert.equal(createdBy[1], "RUN |1 NOTHING= /bin/sh -c true # buildkit");
    assert.ok(steps[0]!.action.kind === "run" && !steps[0]!.action.env.some((e) => e.startsWith("NOTHING")));
  });

  it("proxy build args reach RUN without a declaration, outside the history", () => {
    const { steps, createdBy } = evaluate(["FROM busybox", "RUN true"].join("\n"), {
      HTTP_PROXY: "http://proxy:3128",
      UNUSED: "x",
    });
    const run = steps[0]!.action;
    assert.ok(run.kind === "run");
    assert.deepEqual(run.proxyEnv, ["HTTP_PROXY=http://proxy:3128"]);
    assert.ok(!run.env.some((e) => e.includes("proxy")));
    assert.equal(createdBy[0], "RUN /bin/sh -c true # buildkit");
  });

  it("the platform ARGs are predeclared in the global scope", () => {
    const { steps } = evaluate(
      ["FROM busybox", "ARG TARGETARCH", "ARG TARGETPLATFORM", "RUN true"].join("\n"),
    );
    const run = steps[0]!.action;
    assert.ok(run.kind === "run");
    assert.ok(run.env.includes("TARGETARCH=amd64"));
    assert.ok(run.env.includes("TARGETPLATFORM=linux/amd64"));
  });

  it("step names show the variables RUN can see, with quotes", () => {
    const { steps } = evaluate(["FROM busybox", "ENV A=1", `RUN echo "$A" $UNSET`, "COPY $A /x"].join("\n"));
    assert.equal(steps[0]!.name, `RUN echo "1" $UNSET`);
    assert.equal(steps[1]!.name, "COPY 1 /x");
  });
});

describe("StageEvaluator: config", () => {
  it("ENTRYPOINT clears an inherited CMD but not one set in the same stage", () => {
    assert.equal(evaluate(["FROM busybox", 'ENTRYPOINT ["/app"]'].join("\n")).ev.config.config!.Cmd, null);
    assert.deepEqual(
      evaluate(["FROM busybox", 'CMD ["x"]', 'ENTRYPOINT ["/app"]'].join("\n")).ev.config.config!.Cmd,
      ["x"],
    );
  });

  it("HEALTHCHECK stores nanoseconds and leaves zero durations out; NONE disables", () => {
    const { ev } = evaluate(
      ["FROM busybox", 'HEALTHCHECK --interval=1m30s --start-period=500ms CMD ["true"]'].join("\n"),
    );
    assert.deepEqual(ev.config.config!.Healthcheck, {
      Test: ["CMD", "true"],
      Interval: 90e9,
      StartPeriod: 500e6,
    });
    assert.deepEqual(evaluate("FROM busybox\nHEALTHCHECK NONE").ev.config.config!.Healthcheck, {
      Test: ["NONE"],
    });
  });

  it("ONBUILD records the trigger unexpanded and adds no history", () => {
    const { ev, createdBy } = evaluate(["FROM busybox", "ENV X=1", "ONBUILD COPY $X /x"].join("\n"));
    assert.deepEqual(ev.config.config!.OnBuild, ["COPY $X /x"]);
    assert.deepEqual(createdBy, ["ENV X=1"]);
  });

  it("WORKDIR / changes no files", () => {
    const { steps, createdBy } = evaluate("FROM busybox\nWORKDIR /");
    assert.equal(steps.length, 0);
    assert.deepEqual(createdBy, ["WORKDIR /"]);
  });

  it("refuses an invalid STOPSIGNAL, --chmod, port and --from with a variable, naming the line", () => {
    assert.throws(
      () => evaluate("FROM busybox\nSTOPSIGNAL SIGNOPE"),
      /^BuildError: Dockerfile:2: Invalid signal: SIGNOPE$/,
    );
    assert.throws(
      () => evaluate("FROM busybox\nCOPY --chmod=999 a b"),
      /Dockerfile:2: invalid chmod parameter: '999'/,
    );
    assert.throws(() => evaluate("FROM busybox\nEXPOSE 80/xyz"), /invalid proto: xyz/);
    assert.throws(
      () => evaluate("FROM busybox\nARG S=x\nCOPY --from=$S a b"),
      /Dockerfile:3: variable expansion is not supported for --from/,
    );
    assert.throws(
      () => evaluate("FROM busybox\nCOPY ${A a b"),
      /Dockerfile:2: failed to process .*missing '}'/,
    );
  });
});

describe("paths and ports", () => {
  const workdirs: [string, string, string][] = [
    ["", "/app", "/app"],
    ["/app", "sub", "/app/sub"],
    ["/app", "../x/", "/x"],
    ["/", "/a//b/./c/", "/a/b/c"],
  ];
  for (const [cur, path, want] of workdirs)
    it(`WORKDIR ${path} from ${cur || "(none)"} is ${want}`, () =>
      assert.equal(normalizeWorkdir(cur, path), want));

  const dests: [string, string, string][] = [
    ["/srv", "./", "/srv/"],
    ["/srv", ".", "/srv/"],
    ["/srv", "file.txt", "/srv/file.txt"],
    ["/srv", "sub/", "/srv/sub/"],
    ["/", "/abs//x", "/abs/x"],
    ["/srv", "../up/", "/up/"],
  ];
  for (const [wd, dest, want] of dests)
    it(`COPY dest ${dest} in ${wd} is ${want}`, () => assert.equal(resolveDest(wd, dest), want));

  it("EXPOSE ranges and protocols", () => {
    const loc = { file: "Dockerfile", line: 1, endLine: 1 };
    assert.deepEqual(exposedPorts("8000-8002/UDP", loc), ["8000/udp", "8001/udp", "8002/udp"]);
    assert.deepEqual(exposedPorts("127.0.0.1:80:8080", loc), ["8080/tcp"]);
  });
});

describe("build args and Go formats", () => {
  it("--build-arg K takes the value from the environment, or is skipped", () => {
    assert.deepEqual(
      [...parseBuildArgs(["A=1", "B", "C", "D="], { B: "env" })],
      [
        ["A", "1"],
        ["B", "env"],
        ["D", ""],
      ],
    );
  });

  const durations: [string, number, string][] = [
    ["30s", 30e9, "30s"],
    ["1m30s", 90e9, "1m30s"],
    ["1h", 3600e9, "1h0m0s"],
    ["500ms", 500e6, "500ms"],
    ["1.5s", 1.5e9, "1.5s"],
    ["0", 0, "0s"],
  ];
  for (const [text, ns, shown] of durations) {
    it(`duration ${text}`, () => {
      assert.equal(parseGoDuration(text), ns);
      assert.equal(formatGoDuration(ns), shown);
    });
  }
  it("refuses durations Go refuses", () => {
    for (const t of ["5", "1x", "", "s"]) assert.equal(parseGoDuration(t), undefined);
  });

  it("quotes strings as Go's %q", () => {
    assert.equal(goQuote('a "b"\\\n\t'), '"a \\"b\\"\\\\\\n\\t"');
    assert.equal(goQuote("é"), '"é"');
  });
});

describe("settleHistoryTimes", () => {
  const base = { created: "2023-01-01T00:00:00Z", created_by: "base" };
  it("entries without a time take the first new layer's, then the layer before them", () => {
    const { history, created } = settleHistoryTimes(
      [
        base,
        { created_by: "ENV" },
        { created_by: "RUN", created: "2024-05-01T10:00:00Z" },
        { created_by: "CMD" },
      ],
      1,
      undefined,
    );
    assert.deepEqual(
      history.map((h) => h.created),
      ["2023-01-01T00:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"],
    );
    assert.equal(created, "2024-05-01T10:00:00Z");
  });

  it("with no new layer, metadata entries and the image take the base's last time", () => {
    const { history, created } = settleHistoryTimes([base, { created_by: "ENV" }], 1, undefined);
    assert.equal(history[1]!.created, "2023-01-01T00:00:00Z");
    assert.equal(created, "2023-01-01T00:00:00Z");
  });

  it("SOURCE_DATE_EPOCH clamps the new entries and the image, never the base's", () => {
    const epoch = "2023-06-01T00:00:00Z";
    const late = { created: "2030-01-01T00:00:00Z", created_by: "late base" };
    const { history, created } = settleHistoryTimes(
      [late, { created_by: "RUN", created: "2024-05-01T10:00:00Z" }, { created_by: "ENV" }],
      1,
      epoch,
    );
    assert.deepEqual(
      history.map((h) => h.created),
      ["2030-01-01T00:00:00Z", epoch, epoch],
    );
    assert.equal(created, epoch);
  });
});
