import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { processStart } from "../../src/liveness.js";
import { mountOverlay, unmount } from "../../src/runtime/overlay.js";
import { deleteStoppedState, startThroughExecFifo } from "../../src/runtime/runc-state.js";
import { berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";
import { onTeardown, run, runOk, type Teardown, tempDir } from "../helpers/processes.js";
import { cgroupDirs as containerCgroupDirs, waitFor } from "./helpers.js";

/** The cgroup directories of a relative cgroupsPath (helpers.ts names them for Berth's `berth-ID`). */
const cgroupDirs = (name: string) => containerCgroupDirs(name.replace(/^berth-/, ""));

describe("starting a container runc created through its exec FIFO", () => {
  let dir: string;
  const state = () => join(dir, "state");
  // `runc delete --force` of each container made, run by the after hook or, should the file end
  // another way, by processes.ts on the way out.
  const teardowns: Teardown[] = [];

  before(async () => {
    const root = await tempRoot();
    await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const layer = join(root, "layers", readdirSync(join(root, "layers"))[0]!, "diff");
    dir = await tempDir("berth-fifo-");
    for (const d of ["upper", "work", "merged", "bundle"]) await mkdir(join(dir, d));
    await mountOverlay({
      lowers: [layer],
      upper: join(dir, "upper"),
      work: join(dir, "work"),
      target: join(dir, "merged"),
    });
    await runOk("runc", ["spec", "--bundle", join(dir, "bundle")]);
    const spec = JSON.parse(await readFile(join(dir, "bundle/config.json"), "utf8"));
    spec.process.terminal = false;
    spec.process.args = ["sh", "-c", 'echo ran > /ran; [ "$(hostname)" = sleeper ] && sleep 1000; true'];
    spec.root = { path: join(dir, "merged"), readonly: false };
    await writeFile(join(dir, "bundle/config.json"), JSON.stringify(spec));
  });
  after(async () => {
    for (const t of teardowns) await t.run();
    await unmount(join(dir, "merged"));
  });

  async function create(id: string, hostname = "runc"): Promise<{ pid: number; start: number | null }> {
    teardowns.push(onTeardown(["runc", "--root", state(), "delete", "--force", id]));
    const spec = JSON.parse(await readFile(join(dir, "bundle/config.json"), "utf8"));
    spec.hostname = hostname;
    spec.linux.cgroupsPath = `berth-runc-state-${id}`;
    await writeFile(join(dir, "bundle/config.json"), JSON.stringify(spec));
    // The container's process would inherit the creator's stdio: give it none, so nothing waits on it.
    const created = spawnSync("runc", ["--root", state(), "create", "--bundle", join(dir, "bundle"), id], {
      stdio: "ignore",
    });
    assert.equal(created.status, 0);
    const { pid } = JSON.parse((await runOk("runc", ["--root", state(), "state", id])).stdout) as {
      pid: number;
    };
    return { pid, start: processStart(pid) ?? null };
  }

  test("the process runs, and runc then sees a started container", async () => {
    const init = await create("fifo-ok");
    assert.equal(existsSync(join(dir, "upper/ran")), false);
    assert.equal(await startThroughExecFifo(state(), "fifo-ok", init), true);
    // The file is made, then written: wait for what the process wrote.
    await waitFor(
      "the process to run",
      async () => (await readFile(join(dir, "upper/ran"), "utf8").catch(() => "")) === "ran\n",
    );
    assert.equal(existsSync(join(state(), "fifo-ok", "exec.fifo")), false);
    const status = JSON.parse((await runOk("runc", ["--root", state(), "state", "fifo-ok"])).stdout).status;
    assert.match(status, /^(running|stopped)$/);
  });

  test("an init killed before the start is reported, not waited for", async () => {
    const init = await create("fifo-dead");
    process.kill(init.pid, "SIGKILL");
    await assert.rejects(startThroughExecFifo(state(), "fifo-dead", init), /already dead/);
  });

  test("without an exec FIFO (not runc's layout), nothing is done", async () => {
    assert.equal(await startThroughExecFifo(state(), "no-such-container", { pid: 1, start: null }), false);
  });

  test("delete of a stopped container removes its cgroups and state, as runc delete does; a running one is left to runc", async () => {
    // fifo-ok ran to its end in the first test.
    await waitFor("fifo-ok to stop", async () =>
      /"stopped"/.test((await runOk("runc", ["--root", state(), "state", "fifo-ok"])).stdout),
    );
    const groups = cgroupDirs("berth-runc-state-fifo-ok");
    assert.ok(groups.length > 0 && groups.every((g) => existsSync(g)), "runc made the cgroups");
    assert.equal(deleteStoppedState(state(), "fifo-ok"), true);
    assert.deepEqual(
      groups.filter((g) => existsSync(g)),
      [],
    );
    assert.equal(existsSync(join(state(), "fifo-ok")), false);
    assert.notEqual((await run("runc", ["--root", state(), "state", "fifo-ok"])).code, 0);
    // Running: nothing is touched.
    const init = await create("fifo-running", "sleeper");
    assert.equal(await startThroughExecFifo(state(), "fifo-running", init), true);
    assert.equal(deleteStoppedState(state(), "fifo-running"), false);
    assert.ok(existsSync(join(state(), "fifo-running", "state.json")));
    assert.ok(cgroupDirs("berth-runc-state-fifo-running").every((g) => existsSync(g)));
    assert.equal(deleteStoppedState(state(), "never-created"), false);
  });
});
