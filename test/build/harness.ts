import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { join } from "node:path";
import { berth, tempRoot } from "../client/berth.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import { runOk, type Server, startBerthRegistry, tempDir } from "../helpers/processes.js";

/**
 * What the files testing `berth build` end to end share (build.test.ts, build-interop.test.ts,
 * build-errors.test.ts; one file of all of them ran past the runner's five minutes on a loaded
 * machine): the real runtime for RUN (runc), base images pulled from a Berth registry, an http
 * server for ADD, a context that uses most instructions, and its first build.
 */

/** Per-test limits for the slow steps: a hang fails that test by name, well inside the file's limit. */
export const STEP = { timeout: 120_000 };
export const SLOW_STEP = { timeout: 200_000 };

export const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG REG
ARG BASE=\${REG}/fx/busybox-1:v1
FROM \${BASE} AS builder
ARG GREETING=hello
ENV BUILT_BY=berth
WORKDIR /work
COPY src/ ./src/
RUN mkdir -p /out && cat src/*.txt > /out/joined.txt && echo "$GREETING from $BUILT_BY" > /out/greeting.txt

FROM \${REG}/fx/app-1:v1 AS final
ARG WEB
LABEL org.example.stage=final
USER root
COPY --from=builder --chown=app:app /out/ /srv/app/out/
ADD archive.tar.gz /srv/unpacked/
ADD \${WEB}/file.txt /srv/downloaded.txt
COPY --chmod=0750 run.sh /usr/local/bin/run.sh
RUN rm -rf /srv/app/docs/guide /srv/app/data/blob.bin && mkdir -p /data
ENV APP_MODE=prod
EXPOSE 9090/tcp
VOLUME /data
SHELL ["/bin/sh", "-ec"]
RUN echo shell-form > /srv/shell.txt
HEALTHCHECK --interval=30s CMD true
STOPSIGNAL SIGINT
ONBUILD RUN echo child > /tmp/onbuild.txt
MAINTAINER berth-tests
USER app
WORKDIR /srv/app
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat out/greeting.txt"]
`;

export function makeContext(dir: string): void {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), DOCKERFILE);
  writeFileSync(join(dir, "src/1.txt"), "one\n");
  writeFileSync(join(dir, "src/2.txt"), "two\n");
  writeFileSync(join(dir, "secret.env"), "TOKEN=not-for-images\n");
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\necho run.sh\n");
  writeFileSync(join(dir, ".dockerignore"), "secret.env\n*.swp\n");
  const pkg = join(dir, "..", `pkg-${Date.now()}`);
  mkdirSync(join(pkg, "deep"), { recursive: true });
  writeFileSync(join(pkg, "packed.txt"), "packed\n");
  writeFileSync(join(pkg, "deep/d.txt"), "deeper\n");
  execFileSync("tar", ["-czf", join(dir, "archive.tar.gz"), "-C", pkg, "."]);
}

/** The vertices of BuildKit's plain output: name and how each ended (CACHED, DONE or ERROR). */
export function vertices(progress: string): { name: string; end: string }[] {
  const names = new Map<string, string>();
  const ends = new Map<string, string>();
  for (const line of progress.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, text] = m as unknown as [string, string, string];
    if (!names.has(id)) names.set(id, text);
    else if (text === "CACHED" || text.startsWith("DONE ") || text.startsWith("ERROR"))
      ends.set(id, text.split(" ")[0]!);
  }
  return [...names].map(([id, name]) => ({ name, end: ends.get(id) ?? "" }));
}

export interface BuildHarness {
  /** A Berth registry holding fx/busybox-1:v1 and fx/app-1:v1. */
  reg: Server;
  /** An http server answering /file.txt, for ADD. */
  webUrl: string;
  /** The store the first build went into. */
  root: string;
  scratch: string;
  /** A context with DOCKERFILE. */
  ctxDir: string;
  /** final:1, built from ctxDir once (empty with `build: false`). */
  imageId: string;
  /** The plain progress of that build. */
  firstProgress: string;
  buildArgs(): string[];
  close(): Promise<void>;
}

export async function startBuildHarness(opts: { build?: boolean } = {}): Promise<BuildHarness> {
  const reg = await startBerthRegistry();
  for (const tag of ["busybox-1", "app-1"])
    await runOk("skopeo", [
      "copy",
      "--insecure-policy",
      "--dest-tls-verify=false",
      `oci:${fixtureLayout()}:${tag}`,
      `docker://${reg.host}/fx/${tag}:v1`,
    ]);
  const web: HttpServer = createServer((req, res) => {
    if (req.url !== "/file.txt") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT", "Content-Type": "text/plain" });
    res.end("downloaded content\n");
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  const webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  const root = await tempRoot();
  const scratch = await tempDir("berth-build-scratch-");
  const ctxDir = join(scratch, "ctx");
  makeContext(ctxDir);
  const buildArgs = () => ["--build-arg", `REG=${reg.host}`, "--build-arg", `WEB=${webUrl}`];
  const h: BuildHarness = {
    reg,
    webUrl,
    root,
    scratch,
    ctxDir,
    imageId: "",
    firstProgress: "",
    buildArgs,
    close: async () => {
      await reg.stop();
      await new Promise<void>((resolve) => web.close(() => resolve()));
    },
  };
  if (opts.build === false) return h;
  const r = await berth(root, [
    "build",
    "--progress",
    "plain",
    "--iidfile",
    join(scratch, "iid"),
    ...buildArgs(),
    "-t",
    "final:1",
    ctxDir,
  ]);
  if (r.code !== 0) throw new Error(`the first build failed:\n${r.stderr}`);
  h.firstProgress = r.stderr;
  h.imageId = readFileSync(join(scratch, "iid"), "utf8");
  if (!/^sha256:[0-9a-f]{64}$/.test(h.imageId)) throw new Error(`no image ID in the iidfile: ${h.imageId}`);
  return h;
}
