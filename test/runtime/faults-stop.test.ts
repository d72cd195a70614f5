import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { faultRounds, killDuring, moments, timed } from "./fault-rounds.js";
import { berth, berthOk, inspect, waitFor } from "./helpers.js";

// The fault rounds are described in fault-rounds.ts; split over three files so that each stays well
// inside the runner's per-file time on a loaded machine.
describe("fault rounds (stop, rm -f, commit, cp): kill -9 part-way, then the truth and nothing left", () => {
  const f = faultRounds();

  test("the CLI killed during stop and during rm -f", async () => {
    const { root, verify } = f;
    const stubborn = ["busybox:1", "sh", "-c", "trap '' TERM; while true; do sleep 1; done"];
    for (const [i, ms] of moments(1500).entries()) {
      const name = `killed-stop-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, ...stubborn]);
      await killDuring(root, ["stop", "-t", "1", name], ms);
      await verify(name, `stop killed at ${ms} ms`);
    }
    await berthOk(root, ["run", "-d", "--name", "probe-rm", "busybox:1", "sleep", "1000"]);
    const span = await timed(() => berthOk(root, ["rm", "-f", "probe-rm"]));
    for (const [i, ms] of moments(span).entries()) {
      const name = `killed-rm-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, "busybox:1", "sleep", "1000"]);
      await killDuring(root, ["rm", "-f", name], ms);
      await verify(name, `rm -f killed at ${ms} ms`);
    }
  });

  test("the CLI killed during commit and during cp (no partial file under the final name)", async () => {
    const { root, dir, verify } = f;
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "committed",
      "busybox:1",
      "sh",
      "-c",
      "head -c 20000000 /dev/urandom > /big; sleep 1000",
    ]);
    await waitFor(
      "the file to be written",
      async () => (await berth(root, ["exec", "committed", "test", "-s", "/big"])).code === 0,
    );
    await sleep(500);
    const span = await timed(() => berthOk(root, ["commit", "committed", "probe:commit"]));
    await berthOk(root, ["rmi", "probe:commit"]);
    for (const [i, ms] of moments(span).entries()) {
      await killDuring(root, ["commit", "committed", `killed:commit-${i}`], ms);
      await berthOk(root, ["ps", "-a"]);
      assert.deepEqual(readdirSync(join(root, "tmp")), [], `commit killed at ${ms} ms: the store's tmp`);
      assert.equal((await inspect(root, "committed")).State.Running, true, "the container still runs");
      await berth(root, ["rmi", `killed:commit-${i}`]);
    }
    await verify("committed", "after the commits");

    const src = join(dir, "big.bin");
    await writeFile(src, Buffer.alloc(30_000_000, 7));
    await berthOk(root, ["run", "-d", "--name", "copied", "busybox:1", "sleep", "1000"]);
    const cpSpan = await timed(() => berthOk(root, ["cp", src, "copied:/probe.bin"]));
    for (const [i, ms] of moments(cpSpan).entries()) {
      const dest = `/copy-${i}.bin`;
      await killDuring(root, ["cp", src, `copied:${dest}`], ms);
      const size = await berth(root, [
        "exec",
        "copied",
        "sh",
        "-c",
        `test -e ${dest} && wc -c < ${dest} || echo absent`,
      ]);
      const seen = size.stdout.trim();
      assert.ok(seen === "absent" || seen === "30000000", `cp killed at ${ms} ms: ${dest} is ${seen}`);
    }
    await verify("copied", "after the copies");
    await rm(src, { force: true });
  });
});
