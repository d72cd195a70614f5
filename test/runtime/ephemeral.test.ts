import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { runEphemeral } from "../../src/runtime/ephemeral.js";
import { CommandStartError } from "../../src/runtime/errors.js";
import { mountPoints } from "../../src/runtime/overlay.js";
import { berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";
import { tempDir } from "../helpers/processes.js";
import { cgroupDirs } from "./helpers.js";
import { treeDigest } from "./tree.js";

describe("runEphemeral: one process in a throwaway container (a build step)", () => {
  let lower: string;
  let work: string;
  before(async () => {
    const root = await tempRoot();
    await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const layers = readdirSync(join(root, "layers"));
    assert.equal(layers.length, 1);
    lower = join(root, "layers", layers[0]!, "diff");
    work = await tempDir("berth-eph-");
  });

  it("runs as the named user in the working directory; changes land in the upper directory only", async () => {
    const before = await treeDigest(lower);
    const upper = join(work, "up1");
    const r = await runEphemeral({
      lowerDirs: [lower],
      upperDir: upper,
      scratchDir: join(work, "s1"),
      args: ["sh", "-c", "id; pwd; echo $$; hostname; echo made > /tmp/f; echo oops >&2; exit 3"],
      user: "app",
      workdir: "/home/app/new",
      hostname: "step1",
      env: ["FOO=bar"],
    });
    assert.equal(r.exitCode, 3);
    assert.equal(
      r.stdout.toString(),
      "uid=1000(app) gid=1000(app) groups=1000(app)\n/home/app/new\n1\nstep1\n",
    );
    assert.equal(r.stderr.toString(), "oops\n");
    assert.equal(await readFile(join(upper, "tmp/f"), "utf8"), "made\n");
    assert.ok(
      existsSync(join(upper, "home/app/new")),
      "the working directory was created in the upper layer",
    );
    assert.ok(
      !existsSync(join(upper, "proc")) && !existsSync(join(upper, "dev")),
      "mount points stay out of the layer",
    );
    const again = await runEphemeral({
      lowerDirs: [lower],
      upperDir: upper,
      scratchDir: join(work, "s1b"),
      args: ["sh", "-c", "cat /tmp/f; rm /etc/group"],
    });
    assert.equal(
      again.stdout.toString(),
      "made\n",
      "a second step over the same upper directory sees the first's changes",
    );
    const st = await lstat(join(upper, "etc/group"));
    assert.ok(
      st.isCharacterDevice() && st.rdev === 0,
      "a deletion is an overlay whiteout in the upper directory",
    );
    assert.equal(await treeDigest(lower), before, "the lower layer is unchanged");
    assert.ok(![...mountPoints()].some((m) => m.startsWith(work)), "nothing stays mounted");
    assert.ok(!existsSync(join(work, "s1")), "the scratch directory is removed");
  });

  it("a missing command is 127, a file that is not executable 126", async () => {
    const upper = join(work, "up2");
    await assert.rejects(
      runEphemeral({ lowerDirs: [lower], upperDir: upper, scratchDir: join(work, "s2"), args: ["nosuch"] }),
      (err: unknown) =>
        err instanceof CommandStartError &&
        err.exitCode === 127 &&
        /executable file not found/.test(err.message),
    );
    await assert.rejects(
      runEphemeral({
        lowerDirs: [lower],
        upperDir: upper,
        scratchDir: join(work, "s3"),
        args: ["/etc/passwd"],
      }),
      (err: unknown) => err instanceof CommandStartError && err.exitCode === 126,
    );
  });

  it("network none has only loopback; default adds slirp4netns's tap0; host sees the host's interfaces", async () => {
    const ids: string[] = [];
    const ifaces = async (network: "none" | "default" | "host", n: number) => {
      const r = await runEphemeral({
        lowerDirs: [lower],
        upperDir: join(work, `up-net${n}`),
        scratchDir: join(work, `s-net${n}`),
        args: ["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"],
        network,
      });
      ids.push(r.id);
      return r.stdout.toString().trim();
    };
    assert.equal(await ifaces("none", 1), "lo");
    assert.equal(await ifaces("default", 2), "lo tap0");
    const host = (await readFile("/proc/net/dev", "utf8")).split("\n").slice(2).filter(Boolean).length;
    assert.equal((await ifaces("host", 3)).split(" ").length, host);
    assert.ok(
      ids.every((id) => !existsSync(`/run/netns/berth-${id}`)),
      "no network namespace is left",
    );
    assert.deepEqual(
      ids.flatMap((id) => cgroupDirs(id)).filter((d) => existsSync(d)),
      [],
      "no cgroup is left",
    );
    for (const id of ids) {
      assert.ok(!existsSync(`/run/berth/sock/${id}`), "no attach socket link is left");
      assert.ok(!existsSync(`/run/berth/slirp-${id}.sock`), "no slirp4netns socket is left");
    }
    const processes = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8");
        } catch {
          return "";
        }
      });
    assert.deepEqual(
      processes.filter((cmd) => ids.some((id) => cmd.includes(id))),
      [],
      "no conmon or slirp4netns is left",
    );
  });
});
