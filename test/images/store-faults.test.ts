import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { LocalStore } from "../../src/images/local-store.js";
import { pruneImages, removeImage } from "../../src/images/remove.js";
import { imageUsers } from "../../src/runtime/image-users.js";
import { BERTH_BIN, berth, berthOk, tempRoot } from "../client/berth.js";
import { startProxy } from "../client/proxy.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import { type Server, skopeo, start, startBerthRegistry, waitFor } from "../helpers/processes.js";

interface Inspected {
  Id: string;
  GraphDriver: { Data: { LowerDir?: string; UpperDir: string } };
}

async function layerDirs(root: string, image: string): Promise<string[]> {
  const [img] = JSON.parse((await berthOk(root, ["image", "inspect", image])).stdout) as Inspected[];
  const data = img!.GraphDriver.Data;
  // overlay's order, topmost lower directory first: bottom layer first here.
  return [...(data.LowerDir ? data.LowerDir.split(":").reverse() : []), data.UpperDir];
}

async function contentBlobs(root: string): Promise<string[]> {
  return readdir(join(root, "content/blobs/sha256")).catch(() => []);
}

/**
 * `rmi -f IMAGE` then `image prune -f`, as the CLI runs them but in this process: a loop beside a
 * pull without two process starts per turn, so that it tries tens of times during each pull
 * (as two commands it tried once or twice, and twenty rounds took minutes on a loaded machine).
 * Errors are ignored, as the loop ignored the commands' exit codes.
 */
async function removeAndPrune(root: string, image: string): Promise<void> {
  const store = new LocalStore(root);
  try {
    await removeImage(store, image, { force: true, users: imageUsers(store) }).catch(() => {});
    await pruneImages(store, { users: imageUsers(store) }).catch(() => {});
  } finally {
    store.close();
  }
}

/**
 * The local store under concurrency and crashes (issue 8): two processes on one store, pulls
 * killed part-way, a pull that fails after some of its layers were unpacked.
 */
describe("the local store under concurrency and crashes", () => {
  let reg: Server;
  let app: string;
  let busybox: string;
  before(async () => {
    reg = await startBerthRegistry();
    app = `${reg.host}/fx/app:1`;
    busybox = `${reg.host}/fx/busybox:1`;
    await skopeo(["copy", `oci:${fixtureLayout()}:app-1`, `docker://${app}`]);
    await skopeo(["copy", `oci:${fixtureLayout()}:busybox-1`, `docker://${busybox}`]);
  });
  after(async () => reg.stop());

  test("rmi and image prune looping in one process while another pulls never take the pull's layers (8 rounds; each tries to remove tens of times during the pull)", async () => {
    const root = await tempRoot();
    for (let round = 1; round <= 8; round++) {
      await berthOk(root, ["pull", "-q", busybox]);
      const pulling = berth(root, ["pull", "-q", app]);
      let done = false;
      void pulling.then(() => {
        done = true;
      });
      let removals = 0;
      while (!done) {
        // Both end in the collector, which is what once took a pull's fresh layers.
        await removeAndPrune(root, busybox);
        removals++;
        await sleep(50);
      }
      const pulled = await pulling;
      assert.equal(pulled.code, 0, `round ${round}: ${pulled.stderr}`);
      assert.ok(removals > 0);
      const dirs = await layerDirs(root, app);
      assert.equal(dirs.length, 4, `round ${round}`);
      for (const dir of dirs) assert.ok(existsSync(dir), `round ${round}: ${dir} is there`);
      assert.ok(
        (await stat(join(dirs[0]!, "bin/busybox"))).isFile(),
        `round ${round}: the base layer is whole`,
      );
      assert.equal(
        (await stat(join(dirs[2]!, "srv/app/data/blob.bin"))).size,
        8 * 1024 * 1024,
        `round ${round}`,
      );
      // A pull of the same image after this round finds it whole: it downloads nothing.
      const again = await berthOk(root, ["pull", app]);
      assert.match(again.stdout, /Status: Image is up to date/, `round ${round}`);
      await berthOk(root, ["rmi", app]);
      await berth(root, ["rmi", "-f", busybox]);
      assert.deepEqual(
        await readdir(join(root, "layers")),
        [],
        `round ${round}: nothing left once all is removed`,
      );
    }
    assert.deepEqual(await contentBlobs(root), []);
  });

  test("pulls killed part-way leave nothing in tmp/ once the store is opened again, and the next pull resumes", async () => {
    const root = await tempRoot();
    // A slow registry so that a pull is caught in the middle.
    const proxy = await startProxy(reg.host, { blob: () => "slow" });
    try {
      for (let i = 0; i < 5; i++) {
        const child = start(process.execPath, [BERTH_BIN, "--root", root, "pull", `${proxy.host}/fx/app:1`]);
        await waitFor("the pull to start unpacking", async () => {
          const tmp = await readdir(join(root, "tmp")).catch(() => [] as string[]);
          return tmp.some((n) => n.startsWith("unpack-")) || child.proc.exitCode !== null;
        });
        await child.kill();
      }
      assert.ok(
        (await readdir(join(root, "tmp"))).some((n) => n.startsWith("unpack-")),
        "a killed pull left its work",
      );
      await berthOk(root, ["images"]);
      assert.deepEqual(await readdir(join(root, "tmp")), [], "swept when the store was opened");
    } finally {
      await proxy.close();
    }
    await berthOk(root, ["pull", "-q", app]);
    for (const dir of await layerDirs(root, app)) assert.ok(existsSync(dir));
  });

  test("a pull that fails after some layers were unpacked leaves them to image prune -a, which reclaims them", async () => {
    const root = await tempRoot();
    const manifest = JSON.parse((await skopeo(["inspect", "--raw", `docker://${app}`])).stdout) as {
      layers: { digest: string }[];
    };
    const broken = manifest.layers[3]!.digest;
    const proxy = await startProxy(reg.host, { blob: (digest) => (digest === broken ? "corrupt" : "pass") });
    try {
      const r = await berth(root, ["pull", `${proxy.host}/fx/app:1`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`layer ${broken}`));
    } finally {
      await proxy.close();
    }
    assert.equal((await berthOk(root, ["images", "-q"])).stdout, "", "no image recorded");
    assert.ok(
      (await readdir(join(root, "layers"))).length >= 1,
      "the layers that arrived are kept for a retry",
    );
    const pruned = await berthOk(root, ["image", "prune", "-a", "-f"]);
    const reclaimed = /Total reclaimed space: (\S+)/.exec(pruned.stdout)?.[1];
    assert.ok(reclaimed && reclaimed !== "0B", pruned.stdout);
    assert.deepEqual(await readdir(join(root, "layers")), []);
    assert.deepEqual(await contentBlobs(root), []);
  });
});
