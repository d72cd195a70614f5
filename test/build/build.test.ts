import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import {
  run,
  runOk,
  type Server,
  skopeo,
  startBerthRegistry,
  startDistribution,
  tempDir,
} from "../helpers/processes.js";
import { listImage, listTree, treeDifferences } from "./tree-listing.js";

/**
 * `berth build` end to end, with the real runtime for RUN (runc), base images pulled from a
 * Berth registry, an http server for ADD, Debian's docker-registry and skopeo to read what was
 * pushed, and buildah to build the same Dockerfile for comparison.
 */

const DOCKERFILE = `# syntax=docker/dockerfile:1
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

function makeContext(dir: string): void {
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
function vertices(progress: string): { name: string; end: string }[] {
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

describe("berth build", () => {
  let reg: Server;
  let web: HttpServer;
  let webUrl: string;
  let root: string;
  let ctxDir: string;
  let scratch: string;
  let imageId: string;
  let firstProgress: string;
  const buildArgs = () => ["--build-arg", `REG=${reg.host}`, "--build-arg", `WEB=${webUrl}`];

  before(async () => {
    reg = await startBerthRegistry();
    for (const tag of ["busybox-1", "app-1"])
      await runOk("skopeo", [
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        `oci:${fixtureLayout()}:${tag}`,
        `docker://${reg.host}/fx/${tag}:v1`,
      ]);
    web = createServer((req, res) => {
      if (req.url !== "/file.txt") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT", "Content-Type": "text/plain" });
      res.end("downloaded content\n");
    });
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
    root = await tempRoot();
    scratch = await tempDir("berth-build-scratch-");
    ctxDir = join(scratch, "ctx");
    makeContext(ctxDir);
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
    assert.equal(r.code, 0, r.stderr);
    firstProgress = r.stderr;
    imageId = readFileSync(join(scratch, "iid"), "utf8");
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
  });
  after(async () => {
    await reg.stop();
    await new Promise<void>((resolve) => web.close(() => resolve()));
  });

  it("pulls the base images it lacks and shows BuildKit's plain progress", () => {
    const v = vertices(firstProgress);
    const names = v.map((x) => x.name);
    assert.ok(names.includes(`[internal] load metadata for ${reg.host}/fx/busybox-1:v1`), names.join("\n"));
    assert.ok(
      names.some((n) => /^\[builder 1\/4\] FROM .*busybox-1:v1@sha256:[0-9a-f]{64}$/.test(n)),
      names.join("\n"),
    );
    assert.ok(
      names.includes(
        '[builder 4/4] RUN mkdir -p /out && cat src/*.txt > /out/joined.txt && echo "hello from berth" > /out/greeting.txt',
      ),
    );
    assert.ok(names.includes("[final 2/8] COPY --from=builder --chown=app:app /out/ /srv/app/out/"));
    assert.ok(
      names.indexOf(
        '[builder 4/4] RUN mkdir -p /out && cat src/*.txt > /out/joined.txt && echo "hello from berth" > /out/greeting.txt',
      ) < names.indexOf("[final 2/8] COPY --from=builder --chown=app:app /out/ /srv/app/out/"),
    );
    for (const x of v.filter((x) => /^\[(builder|final) \d\/\d\] (RUN|COPY|ADD|WORKDIR)/.test(x.name)))
      assert.equal(x.end, "DONE", x.name);
    assert.match(firstProgress, /#\d+ naming to docker\.io\/library\/final:1 done/);
  });

  it("the image runs with the expected env, user, workdir, files and deletions", async () => {
    assert.equal((await berthOk(root, ["run", "--rm", "final:1"])).stdout, "hello from berth\n");
    const asApp = ["id -un", "pwd", 'echo "$APP_MODE $APP_HOME [$BUILT_BY]"', "cat out/joined.txt"].join(
      "; ",
    );
    assert.equal(
      (await berthOk(root, ["run", "--rm", "--entrypoint", "sh", "final:1", "-c", asApp])).stdout,
      "app\n/srv/app\nprod /srv/app []\none\ntwo\n",
    );
    const asRoot = [
      "cat /srv/unpacked/packed.txt /srv/unpacked/deep/d.txt /srv/downloaded.txt /srv/shell.txt",
      "stat -c '%U:%G %a' out/greeting.txt /usr/local/bin/run.sh /srv/downloaded.txt",
      "ls /srv/app/docs",
      "test -e /srv/app/data/blob.bin || echo blob deleted",
      "test -e /srv/app/docs/remove-me.txt || echo remove-me still deleted",
    ].join("; ");
    const out = (
      await berthOk(root, ["run", "--rm", "-u", "0", "--entrypoint", "sh", "final:1", "-c", asRoot])
    ).stdout;
    assert.equal(
      out,
      [
        "packed",
        "deeper",
        "downloaded content",
        "shell-form",
        "app:app 644",
        "root:root 750",
        "root:root 600",
        "reference",
        "blob deleted",
        "remove-me still deleted",
        "",
      ].join("\n"),
    );
    const [inspect] = JSON.parse((await berthOk(root, ["image", "inspect", "final:1"])).stdout) as {
      Id: string;
      Author: string;
      Config: Record<string, unknown>;
    }[];
    assert.equal(inspect!.Id, imageId);
    assert.equal(inspect!.Author, "berth-tests");
    const c = inspect!.Config;
    assert.equal(c.User, "app");
    assert.equal(c.WorkingDir, "/srv/app");
    assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(c.Cmd, ["cat out/greeting.txt"]);
    assert.ok((c.Env as string[]).includes("APP_MODE=prod"));
    assert.ok(
      !(c.Env as string[]).some((e) => e.startsWith("BUILT_BY=") || e.startsWith("GREETING=")),
      "the builder stage's ENV and ARGs stay there",
    );
    assert.deepEqual(Object.keys(c.ExposedPorts as object).sort(), ["8080/tcp", "9090/tcp"]);
    assert.deepEqual(c.Volumes, { "/data": {} });
    assert.equal(c.StopSignal, "SIGINT");
    assert.deepEqual(c.OnBuild, ["RUN echo child > /tmp/onbuild.txt"]);
    assert.deepEqual(c.Shell, ["/bin/sh", "-ec"]);
    assert.deepEqual(c.Healthcheck, { Test: ["CMD-SHELL", "true"], Interval: 30e9 });
    assert.equal((c.Labels as Record<string, string>)["org.example.stage"], "final");
    assert.equal(
      (c.Labels as Record<string, string>)["com.example.tier"],
      "test",
      "labels of the base image stay",
    );
  });

  it("writes one history row per instruction, as BuildKit does", async () => {
    const rows = (
      await berthOk(root, [
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
        "final:1",
      ])
    ).stdout
      .trim()
      .split("\n");
    const web = `WEB=${webUrl}`;
    const expected = [
      'CMD ["cat out/greeting.txt"]',
      'ENTRYPOINT ["/bin/sh" "-c"]',
      "WORKDIR /srv/app",
      "USER app",
      "MAINTAINER berth-tests",
      "STOPSIGNAL SIGINT",
      "HEALTHCHECK {Test:[CMD-SHELL true] Interval:30s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}",
      `RUN |1 ${web} /bin/sh -ec echo shell-form > /srv/shell.txt # buildkit`,
      "SHELL [/bin/sh -ec]",
      "VOLUME [/data]",
      "EXPOSE [9090/tcp]",
      "ENV APP_MODE=prod",
      `RUN |1 ${web} /bin/sh -c rm -rf /srv/app/docs/guide /srv/app/data/blob.bin && mkdir -p /data # buildkit`,
      "COPY --chmod=0750 run.sh /usr/local/bin/run.sh # buildkit",
      `ADD ${webUrl}/file.txt /srv/downloaded.txt # buildkit`,
      "ADD archive.tar.gz /srv/unpacked/ # buildkit",
      "COPY --chown=app:app /out/ /srv/app/out/ # buildkit",
      "USER root",
      "LABEL org.example.stage=final",
      `ARG ${web}`,
    ];
    assert.deepEqual(
      rows.slice(0, expected.length).map((r) => r.split("\t")[0]),
      expected,
    );
    for (const r of rows.slice(0, expected.length)) assert.equal(r.split("\t")[2], "buildkit.dockerfile.v0");
    const metadata = rows.slice(0, expected.length).filter((r) => !/ # buildkit\t|^WORKDIR /.test(r));
    for (const r of metadata) assert.equal(r.split("\t")[1], "0B", r);
    assert.ok(rows.length > expected.length, "app-1's own history follows");
  });

  it("a second build is all cached and gives the same image ID", async () => {
    const r = await berthOk(root, [
      "build",
      "--progress",
      "plain",
      "--iidfile",
      join(scratch, "iid2"),
      ...buildArgs(),
      "-t",
      "final:1",
      ctxDir,
    ]);
    assert.equal(readFileSync(join(scratch, "iid2"), "utf8"), imageId);
    const steps = vertices(r.stderr).filter((x) => /^\[(builder|final) +\d+\/\d+\]/.test(x.name));
    assert.equal(steps.length, 12);
    for (const s of steps) assert.equal(s.end, "CACHED", s.name);
  });

  it("changing one copied file rebuilds from that COPY on and keeps the steps before it", async () => {
    const dir = join(scratch, "ctx-changed");
    cpSync(ctxDir, dir, { recursive: true });
    writeFileSync(join(dir, "run.sh"), "#!/bin/sh\necho changed\n");
    const r = await berthOk(root, [
      "build",
      "--progress",
      "plain",
      "--iidfile",
      join(scratch, "iid3"),
      ...buildArgs(),
      "-t",
      "final:changed",
      dir,
    ]);
    const ends = new Map<string, string>();
    for (const v of vertices(r.stderr)) {
      const m = /^\[(\w+) +(\d+\/\d+)\]/.exec(v.name);
      if (m) ends.set(`[${m[1]} ${m[2]}]`, v.end);
    }
    const byPrefix = (p: string) => ends.get(p);
    for (const p of [
      "[builder 1/4]",
      "[builder 2/4]",
      "[builder 3/4]",
      "[builder 4/4]",
      "[final 1/8]",
      "[final 2/8]",
      "[final 3/8]",
      "[final 4/8]",
    ])
      assert.equal(byPrefix(p), "CACHED", p);
    for (const p of ["[final 5/8]", "[final 6/8]", "[final 7/8]", "[final 8/8]"])
      assert.equal(byPrefix(p), "DONE", p);
    assert.notEqual(readFileSync(join(scratch, "iid3"), "utf8"), imageId);
    assert.equal(
      (
        await berthOk(root, [
          "run",
          "--rm",
          "-u",
          "0",
          "--entrypoint",
          "/usr/local/bin/run.sh",
          "final:changed",
        ])
      ).stdout,
      "changed\n",
    );
  });

  it("--build-arg, --target and .dockerignore", async () => {
    await berthOk(root, [
      "build",
      "-q",
      ...buildArgs(),
      "--build-arg",
      "GREETING=bonjour",
      "--label",
      "built.by=test",
      "-t",
      "final:fr",
      ctxDir,
    ]);
    assert.equal((await berthOk(root, ["run", "--rm", "final:fr"])).stdout, "bonjour from berth\n");
    const labels = JSON.parse(
      (await berthOk(root, ["image", "inspect", "--format", "{{json .Config.Labels}}", "final:fr"])).stdout,
    ) as Record<string, string>;
    assert.equal(labels["built.by"], "test");
    assert.equal(labels["org.example.stage"], "final");
    const target = await berthOk(root, [
      "build",
      "-q",
      ...buildArgs(),
      "--target",
      "builder",
      "-t",
      "builder:1",
      ctxDir,
    ]);
    assert.match(target.stdout, /^sha256:[0-9a-f]{64}\n$/, "-q prints only the image ID");
    const out = (
      await berthOk(root, [
        "run",
        "--rm",
        "builder:1",
        "sh",
        "-c",
        "pwd; cat /out/joined.txt; echo $BUILT_BY; test -e /srv/app || echo no-final",
      ])
    ).stdout;
    assert.equal(out, "/work\none\ntwo\nberth\nno-final\n");
    const dir = join(scratch, "ctx-ignore");
    cpSync(ctxDir, dir, { recursive: true });
    writeFileSync(join(dir, "scratch.swp"), "swap");
    writeFileSync(join(dir, "Dockerfile"), `FROM ${reg.host}/fx/busybox-1:v1\nCOPY . /ctx/\n`);
    await berthOk(root, ["build", "-q", "-t", "ignore:1", dir]);
    const net = join(scratch, "ctx-net");
    mkdirSync(net);
    writeFileSync(
      join(net, "Dockerfile"),
      `FROM ${reg.host}/fx/busybox-1:v1\nRUN ls /sys/class/net > /nets\nRUN --network=host ls /sys/class/net > /host-nets\n`,
    );
    await berthOk(root, ["build", "-q", "--network", "none", "-t", "net:1", net]);
    assert.equal(
      (await berthOk(root, ["run", "--rm", "net:1", "cat", "/nets"])).stdout,
      "lo\n",
      "--network none: loopback only",
    );
    const host = (await berthOk(root, ["run", "--rm", "net:1", "cat", "/host-nets"])).stdout
      .split("\n")
      .filter(Boolean);
    assert.ok(host.length > 1, `RUN --network=host sees the host's interfaces: ${host.join(" ")}`);
    const listing = (await berthOk(root, ["run", "--rm", "ignore:1", "ls", "-A", "/ctx"])).stdout
      .split("\n")
      .filter(Boolean);
    assert.deepEqual(listing.sort(), [".dockerignore", "Dockerfile", "archive.tar.gz", "run.sh", "src"]);
  });

  it("ONBUILD triggers run when a child image builds FROM it", async () => {
    const dir = join(scratch, "ctx-child");
    mkdirSync(dir);
    writeFileSync(join(dir, "Dockerfile"), "FROM final:1\nUSER root\nRUN cat /tmp/onbuild.txt > /seen.txt\n");
    const r = await berthOk(root, ["build", "--progress", "plain", "-t", "child:1", dir]);
    assert.ok(
      vertices(r.stderr).some(
        (v) => v.name === "[2/3] ONBUILD RUN echo child > /tmp/onbuild.txt" && v.end === "DONE",
      ),
      r.stderr,
    );
    assert.equal(
      (await berthOk(root, ["run", "--rm", "--entrypoint", "cat", "child:1", "/seen.txt"])).stdout,
      "child\n",
    );
    const [inspect] = JSON.parse((await berthOk(root, ["image", "inspect", "child:1"])).stdout) as {
      Config: { OnBuild: unknown };
    }[];
    assert.equal(inspect!.Config.OnBuild, null, "triggers do not pass on to grandchildren");
  });

  it("pushes to Debian's docker-registry, and skopeo reads the image", async () => {
    const dist = await startDistribution();
    try {
      const name = `${dist.host}/built/final:1`;
      await berthOk(root, ["tag", "final:1", name]);
      await berthOk(root, ["push", "-q", name]);
      const raw = JSON.parse((await skopeo(["inspect", "--raw", `docker://${name}`])).stdout) as {
        config: { digest: string };
        layers: unknown[];
      };
      assert.equal(raw.config.digest, imageId);
      const rawConfig = (await skopeo(["inspect", "--config", "--raw", `docker://${name}`])).stdout;
      assert.equal(`sha256:${createHash("sha256").update(rawConfig).digest("hex")}`, imageId);
      const config = JSON.parse(rawConfig) as {
        config: { OnBuild: string[]; Healthcheck: unknown };
        rootfs: { diff_ids: string[] };
        history: { empty_layer?: boolean }[];
      };
      assert.deepEqual(config.config.OnBuild, ["RUN echo child > /tmp/onbuild.txt"]);
      assert.equal(config.rootfs.diff_ids.length, raw.layers.length);
      assert.equal(config.history.filter((h) => !h.empty_layer).length, raw.layers.length);
      const layout = join(scratch, "pushed-layout");
      await skopeo(["copy", `docker://${name}`, `oci:${layout}:final`]);
      assert.ok(
        readdirSync(join(layout, "blobs/sha256")).length >= raw.layers.length + 2,
        "skopeo fetched and verified every blob",
      );
    } finally {
      await dist.stop();
    }
  });

  it("buildah bud of the same Dockerfile gives the same file tree (owners, modes, contents)", async () => {
    const bhRoot = await tempDir("berth-buildah-");
    const bh = (args: string[]) =>
      runOk(
        "buildah",
        [
          "--root",
          join(bhRoot, "storage"),
          "--runroot",
          join(bhRoot, "run"),
          "--storage-driver",
          "vfs",
          ...args,
        ],
        {
          env: { BUILDAH_ISOLATION: "chroot" },
        },
      );
    try {
      await bh([
        "bud",
        "--layers",
        "-q",
        "--tls-verify=false",
        ...buildArgs(),
        "-t",
        "localhost/final:1",
        ctxDir,
      ]);
      const ctr = (await bh(["from", "localhost/final:1"])).stdout.trim();
      const mount = (await bh(["mount", ctr])).stdout.trim();
      try {
        const theirs = await listTree(mount);
        const ours = await listImage(root, "final:1", scratch);
        assert.deepEqual(treeDifferences(ours, theirs, ["berth", "buildah"]), []);
        assert.ok(ours.size > 400, `compared ${ours.size} entries`);
      } finally {
        await bh(["umount", ctr]);
      }
    } finally {
      await run("buildah", [
        "--root",
        join(bhRoot, "storage"),
        "--runroot",
        join(bhRoot, "run"),
        "--storage-driver",
        "vfs",
        "rm",
        "--all",
      ]);
    }
  });

  it("is reproducible: with SOURCE_DATE_EPOCH two stores build the same image digest", async () => {
    const dir = join(scratch, "ctx-repro");
    mkdirSync(join(dir, "files"), { recursive: true });
    writeFileSync(join(dir, "files/a.txt"), "a\n");
    writeFileSync(
      join(dir, "Dockerfile"),
      `FROM ${reg.host}/fx/busybox-1:v1\nCOPY files /files\nWORKDIR /made/here\nRUN echo built > out.txt && mkdir -p /var/x && rm /bin/vi\nENV X=1\n`,
    );
    const results: { id: string; manifest: string; created: string }[] = [];
    for (const n of [1, 2]) {
      const store = await tempRoot();
      const out = join(scratch, `repro-${n}.tar`);
      // Different file times on each side: the epoch must make them equal.
      execFileSync("touch", ["-d", `@${1_800_000_000 + n}`, join(dir, "files/a.txt")]);
      const r = await berth(
        store,
        [
          "build",
          "-q",
          "--iidfile",
          join(scratch, `repro-${n}.iid`),
          "--output",
          `type=oci,dest=${out}`,
          dir,
        ],
        {
          env: { SOURCE_DATE_EPOCH: "1700000000" },
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const index = JSON.parse(execFileSync("tar", ["-xOf", out, "index.json"]).toString()) as {
        manifests: { digest: string }[];
      };
      const id = readFileSync(join(scratch, `repro-${n}.iid`), "utf8");
      const config = JSON.parse(
        execFileSync("tar", ["-xOf", out, `blobs/sha256/${id.slice(7)}`]).toString(),
      ) as {
        created: string;
        history: { created: string }[];
      };
      results.push({ id, manifest: index.manifests[0]!.digest, created: config.created });
      assert.equal(
        (await berthOk(store, ["images", "-q"])).stdout.includes(id.slice(7, 19)),
        false,
        "--output stores no image",
      );
    }
    assert.equal(results[0]!.id, results[1]!.id);
    assert.equal(results[0]!.manifest, results[1]!.manifest);
    assert.equal(results[0]!.created, "2023-11-14T22:13:20Z");
  });

  it("--output type=docker writes an archive that berth load takes", async () => {
    const out = join(scratch, "final-docker.tar");
    await berthOk(root, [
      "build",
      "-q",
      ...buildArgs(),
      "--output",
      `type=docker,dest=${out}`,
      "-t",
      "exported:1",
      ctxDir,
    ]);
    const other = await tempRoot();
    const loaded = await berthOk(other, ["load", "-i", out]);
    assert.match(loaded.stdout, /Loaded image: exported:1/);
    assert.equal(
      (await berthOk(other, ["image", "inspect", "--format", "{{.Id}}", "exported:1"])).stdout.trim(),
      imageId,
    );
  });

  it("builds from a Dockerfile on stdin and from a tar context; two builds at once share the cache", async () => {
    const fromStdin = await berth(root, ["build", "-q", "-t", "stdin:1", "-"], {
      input: "FROM final:1\nLABEL from=stdin\n",
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const tarFile = join(scratch, "ctx.tar");
    execFileSync("tar", ["-cf", tarFile, "-C", ctxDir, "."]);
    const [a, b] = await Promise.all([
      berth(root, ["build", "-q", ...buildArgs(), "--build-arg", "GREETING=a", "-t", "par:a", tarFile]),
      berth(root, ["build", "-q", ...buildArgs(), "--build-arg", "GREETING=b", "-t", "par:b", ctxDir]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await berthOk(root, ["run", "--rm", "par:a"])).stdout, "a from berth\n");
    assert.equal((await berthOk(root, ["run", "--rm", "par:b"])).stdout, "b from berth\n");
  });

  describe("refuses bad input, tags nothing and leaves nothing half made", () => {
    async function failing(dockerfile: string, files: Record<string, string> = {}, extra: string[] = []) {
      const dir = await tempDir("berth-bad-");
      writeFileSync(join(dir, "Dockerfile"), dockerfile);
      for (const [p, c] of Object.entries(files)) {
        mkdirSync(join(dir, p, ".."), { recursive: true });
        writeFileSync(join(dir, p), c);
      }
      const imagesBefore = (await berthOk(root, ["images", "-a", "-q", "--no-trunc"])).stdout;
      const r = await berth(root, ["build", "--progress", "plain", "-t", "bad:1", ...extra, dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        (await berthOk(root, ["images", "-a", "-q", "--no-trunc"])).stdout,
        imagesBefore,
        "no image was recorded",
      );
      assert.equal((await berth(root, ["image", "inspect", "bad:1"])).code, 1, "nothing was tagged");
      assert.deepEqual(readdirSync(join(root, "tmp")), [], "no step left its files behind");
      return { r, dir };
    }

    it("a syntax error or unknown instruction names Dockerfile:LINE", async () => {
      const { r } = await failing(`FROM ${reg.host}/fx/busybox-1:v1\nBOGUS foo\n`);
      assert.match(r.stderr, /^Dockerfile:2$/m);
      assert.match(
        r.stderr,
        /Error: failed to solve: dockerfile parse error on line 2: unknown instruction: BOGUS/,
      );
      const json = await failing(`FROM ${reg.host}/fx/busybox-1:v1\nRUN true\nSHELL not-json\n`);
      assert.match(json.r.stderr, /^Dockerfile:3$/m);
      assert.match(json.r.stderr, /SHELL requires the arguments to be in JSON form/);
    });

    it("a failed RUN stops the build with Docker's message", async () => {
      const { r } = await failing(
        `FROM ${reg.host}/fx/busybox-1:v1\nRUN echo before\nRUN echo partial > /p && exit 3\nRUN echo never\n`,
      );
      assert.match(
        r.stderr,
        /process "\/bin\/sh -c echo partial > \/p && exit 3" did not complete successfully: exit code: 3/,
      );
      assert.match(r.stderr, /^Dockerfile:3$/m);
      assert.ok(
        !vertices(r.stderr).some((v) => v.name.includes("RUN echo never")),
        "the build stopped at the failing step",
      );
      const { r: plain } = await failing(`FROM ${reg.host}/fx/busybox-1:v1\nRUN exit 3\n`);
      assert.match(
        plain.stderr,
        /ERROR: process "\/bin\/sh -c exit 3" did not complete successfully: exit code: 3/,
      );
    });

    it("a COPY source that is missing, outside the context, or behind a symlink leaving it", async () => {
      const base = `FROM ${reg.host}/fx/busybox-1:v1\n`;
      assert.match((await failing(`${base}COPY missing.txt /x\n`)).r.stderr, /"\/missing\.txt": not found/);
      assert.match(
        (await failing(`${base}COPY ../outside /x\n`)).r.stderr,
        /forbidden path outside the build context: \.\.\/outside/,
      );
      const dir = await tempDir("berth-bad-");
      writeFileSync(join(dir, "Dockerfile"), `${base}COPY link/passwd /x\n`);
      symlinkSync("/etc", join(dir, "link"));
      const r = await berth(root, ["build", "-t", "bad:1", dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /"link\/passwd" is reached through a symlink that leaves the build context/);
      assert.match(r.stderr, /^Dockerfile:2$/m);
    });

    it("a context over the configured size asks for a .dockerignore", async () => {
      const store = await tempRoot();
      writeFileSync(join(store, "config.yaml"), "buildContextLimit: 1k\n");
      const dir = await tempDir("berth-bad-");
      writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY . /\n");
      writeFileSync(join(dir, "big.bin"), Buffer.alloc(8192));
      const r = await berth(store, ["build", "-t", "big:1", dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /build context is larger than the limit of 1KiB.*\.dockerignore/);
      writeFileSync(join(dir, ".dockerignore"), "big.bin\n");
      await berthOk(store, ["build", "-q", "-t", "big:1", dir]);
    });
  });

  it("the cache outlives the images: after rmi, a rebuild takes every step from it", async () => {
    const dir = join(scratch, "ctx-rmi");
    mkdirSync(dir);
    writeFileSync(join(dir, "Dockerfile"), `FROM ${reg.host}/fx/busybox-1:v1\nRUN echo kept > /kept.txt\n`);
    await berthOk(root, ["build", "-q", "-t", "kept:1", dir]);
    await berthOk(root, ["rmi", "kept:1"]);
    await berthOk(root, ["image", "prune", "-f"]);
    const r = await berthOk(root, ["build", "--progress", "plain", "-t", "kept:1", dir]);
    assert.equal(vertices(r.stderr).find((v) => v.name.startsWith("[2/2] RUN"))?.end, "CACHED", r.stderr);
    assert.equal((await berthOk(root, ["run", "--rm", "kept:1", "cat", "/kept.txt"])).stdout, "kept\n");
  });

  it("system df counts the build cache; builder prune removes it", async () => {
    const df = (await berthOk(root, ["system", "df"])).stdout.split("\n");
    assert.match(df[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    const images = /^Images\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)/.exec(df.find((l) => l.startsWith("Images"))!);
    assert.ok(images && Number(images[1]) >= 8);
    const cacheLine = /^Build Cache\s+(\d+)\s+\d+\s+(\S+)\s+(\S+)$/.exec(
      df.find((l) => l.startsWith("Build Cache"))!,
    );
    assert.ok(cacheLine && Number(cacheLine[1]) >= 12, df.join("\n"));
    await berthOk(root, ["rmi", "final:changed"]);
    const pruned = (await berthOk(root, ["builder", "prune", "-f"])).stdout;
    assert.match(pruned, /^Deleted build cache objects:\n([0-9a-f]{25}\n)+\nTotal reclaimed space: \S+\n$/);
    const all = (await berthOk(root, ["builder", "prune", "-a", "-f"])).stdout;
    assert.match(all, /Total reclaimed space: /);
    const after = (await berthOk(root, ["system", "df", "--format", "{{.Type}}={{.TotalCount}}"])).stdout;
    assert.match(after, /^Build Cache=0$/m);
    const r = await berthOk(root, ["build", "--progress", "plain", ...buildArgs(), "-t", "final:1", ctxDir]);
    assert.ok(
      vertices(r.stderr).every((v) => v.end !== "CACHED" || /FROM /.test(v.name)),
      "nothing is cached after a prune",
    );
  });
});
