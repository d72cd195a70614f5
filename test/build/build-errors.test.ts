import assert from "node:assert/strict";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { type Server, tempDir } from "../helpers/processes.js";
import { type BuildHarness, SLOW_STEP, STEP, startBuildHarness, vertices } from "./harness.js";

/** `berth build` refuses bad input, tags nothing and leaves nothing half made. */
describe("berth build", () => {
  let h: BuildHarness;
  let reg: Server;
  let root: string;

  before(async () => {
    h = await startBuildHarness({ build: false });
    ({ reg, root } = h);
    // A failing build's FROM would otherwise pull it, and "no image was recorded" would not hold.
    await berthOk(root, ["pull", "-q", `${reg.host}/fx/busybox-1:v1`]);
  }, SLOW_STEP);
  after(async () => {
    await h?.close();
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

    it("a syntax error or unknown instruction names Dockerfile:LINE", STEP, async () => {
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

    it("a failed RUN stops the build with Docker's message", STEP, async () => {
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

    it(
      "a COPY source that is missing, outside the context, or behind a symlink leaving it",
      STEP,
      async () => {
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
      },
    );

    it("a context over the configured size asks for a .dockerignore", STEP, async () => {
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
});
