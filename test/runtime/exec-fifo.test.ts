import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startThroughExecFifo } from "../../src/runtime/exec-fifo.js";
import { processStart } from "../../src/runtime/liveness.js";
import { mountOverlay, unmount } from "../../src/runtime/overlay.js";
import { berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";
import { run, runOk, tempDir } from "../helpers/processes.js";
import { waitFor } from "./helpers.js";

describe("starting a container runc created through its exec FIFO", () => {
  let dir: string;
  const state = () => join(dir, "state");
  const ids: string[] = [];

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
    spec.process.args = ["sh", "-c", "echo ran > /ran"];
    spec.root = { path: join(dir, "merged"), readonly: false };
    await writeFile(join(dir, "bundle/config.json"), JSON.stringify(spec));
  });
  after(async () => {
    for (const id of ids) await run("runc", ["--root", state(), "delete", "--force", id]);
    await unmount(join(dir, "merged"));
  });

  async function create(id: string): Promise<{ pid: number; start: number | null }> {
    ids.push(id);
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
    await waitFor("the process to run", () => existsSync(join(dir, "upper/ran")));
    assert.equal(await readFile(join(dir, "upper/ran"), "utf8"), "ran\n");
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
});
