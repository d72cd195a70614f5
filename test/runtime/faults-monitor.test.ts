import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chmod, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { faultRounds, moments, ROUNDS } from "./fault-rounds.js";
import { alive, berth, berthOk, inspect, waitFor } from "./helpers.js";

// The fault rounds are described in fault-rounds.ts; split over three files so that each stays well
// inside the runner's per-file time on a loaded machine.
describe("fault rounds (conmon, runc): kill -9 part-way, then the truth and nothing left", () => {
  const f = faultRounds();

  test("conmon killed: ps says Up while the process runs, and rm -f leaves nothing", async () => {
    const { root, verify } = f;
    for (let i = 0; i < ROUNDS; i++) {
      const name = `no-monitor-${i}`;
      await berthOk(root, ["run", "-d", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"]);
      const c = await inspect(root, name);
      const conmon = Number(readFileSync(join(root, "containers", c.Id, "bundle/conmon.pid"), "utf8"));
      if (i % 2 === 1) await sleep(Math.random() * 200);
      process.kill(conmon, "SIGKILL");
      await waitFor("conmon to die", () => !alive(conmon));
      await verify(name, `conmon killed (round ${i})`);
    }
  });

  test("runc killed during create: the start fails, and rm -f leaves no cgroup behind", async () => {
    const { root, dir, verify } = f;
    // A runtime that is runc, killed part-way through each create after a delay of the round's.
    const delayFile = join(dir, "delay");
    const killer = join(dir, "runc-killed-in-create");
    await writeFile(
      killer,
      `#!/bin/sh
for a in "$@"; do
  if [ "$a" = create ]; then
    runc "$@" &
    pid=$!
    sleep "$(cat ${delayFile})"
    kill -9 $pid 2>/dev/null
    wait $pid
    exit $?
  fi
done
exec runc "$@"
`,
    );
    await chmod(killer, 0o755);
    await writeFile(join(root, "config.yaml"), `runtime: ${killer}\n`);
    try {
      // runc's create takes some tens of milliseconds: spread the kills over 0-150 ms.
      for (const [i, ms] of moments(150).entries()) {
        await writeFile(delayFile, (ms / 1000).toFixed(3));
        const name = `runc-killed-${i}`;
        const r = await berth(root, [
          "run",
          "-d",
          "--name",
          name,
          "-p",
          "127.0.0.1::80",
          "busybox:1",
          "sleep",
          "1000",
        ]);
        const c = await inspect(root, name);
        if (r.code === 0) assert.equal(c.State.Running, true, "a create that finished in time runs");
        else assert.notEqual(c.State.Status, "running", `runc killed at ${ms} ms: ${r.stderr}`);
        await verify(name, `runc killed during create at ${ms} ms`);
      }
    } finally {
      await rm(join(root, "config.yaml"), { force: true });
    }
  });
});
