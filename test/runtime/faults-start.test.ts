import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { faultRounds, killDuring, moments, timed } from "./fault-rounds.js";
import { berth, berthOk, inspect } from "./helpers.js";

// The fault rounds are described in fault-rounds.ts; split over three files so that each stays well
// inside the runner's per-file time on a loaded machine.
describe("fault rounds (run -d, start): kill -9 part-way, then the truth and nothing left", () => {
  const f = faultRounds();

  test("the CLI killed during run -d and during start", async () => {
    const { root, verify } = f;
    const span = await timed(() =>
      berthOk(root, [
        "run",
        "-d",
        "--name",
        "probe-run",
        "-p",
        "127.0.0.1::80",
        "busybox:1",
        "sleep",
        "1000",
      ]),
    );
    await berthOk(root, ["rm", "-f", "probe-run"]);
    for (const [i, ms] of moments(span).entries()) {
      const name = `killed-run-${i}`;
      await killDuring(
        root,
        ["run", "-d", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"],
        ms,
      );
      await verify(name, `run -d killed at ${ms} ms`);
    }
    await berthOk(root, [
      "create",
      "--name",
      "probe-start",
      "-p",
      "127.0.0.1::80",
      "busybox:1",
      "sleep",
      "1000",
    ]);
    const startSpan = await timed(() => berthOk(root, ["start", "probe-start"]));
    await berthOk(root, ["rm", "-f", "probe-start"]);
    for (const [i, ms] of moments(startSpan).entries()) {
      const name = `killed-start-${i}`;
      await berthOk(root, ["create", "--name", name, "-p", "127.0.0.1::80", "busybox:1", "sleep", "1000"]);
      await killDuring(root, ["start", name], ms);
      // The next start works (no "Device or resource busy" from a slirp4netns left behind).
      const again = await berth(root, ["start", name]);
      assert.equal(again.code, 0, `start after a start killed at ${ms} ms: ${again.stderr}`);
      assert.equal((await inspect(root, name)).State.Running, true);
      await verify(name, `start killed at ${ms} ms`);
    }
  });
});
