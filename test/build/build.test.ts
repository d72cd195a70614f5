import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import type { Server } from "../helpers/processes.js";
import { type BuildHarness, SLOW_STEP, STEP, startBuildHarness, vertices } from "./harness.js";

/**
 * `berth build` end to end, with the real runtime for RUN (runc) and base images pulled from a
 * Berth registry: what is built, cached, named and recorded. build-interop.test.ts compares the
 * result with buildah, docker-registry and skopeo; build-errors.test.ts holds the refusals.
 */
describe("berth build", () => {
  let h: BuildHarness;
  let reg: Server;
  let webUrl: string;
  let root: string;
  let ctxDir: string;
  let scratch: string;
  let imageId: string;
  let firstProgress: string;
  const buildArgs = () => h.buildArgs();

  before(async () => {
    h = await startBuildHarness();
    ({ reg, webUrl, root, ctxDir, scratch, imageId, firstProgress } = h);
  }, SLOW_STEP);
  after(async () => {
    await h?.close();
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

  it("the image runs with the expected env, user, workdir, files and deletions", STEP, async () => {
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

  it("writes one history row per instruction, as BuildKit does", STEP, async () => {
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

  it("a second build is all cached and gives the same image ID", STEP, async () => {
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

  it("changing one copied file rebuilds from that COPY on and keeps the steps before it", STEP, async () => {
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

  it("--build-arg, --target and .dockerignore", STEP, async () => {
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

  it("ONBUILD triggers run when a child image builds FROM it", STEP, async () => {
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

  it("--output type=docker writes an archive that berth load takes", STEP, async () => {
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

  it(
    "builds from a Dockerfile on stdin and from a tar context; two builds at once share the cache",
    STEP,
    async () => {
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
    },
  );

  it("the cache outlives the images: after rmi, a rebuild takes every step from it", STEP, async () => {
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

  it("system df counts the build cache; builder prune removes it", STEP, async () => {
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
