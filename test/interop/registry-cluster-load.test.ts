import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { GC_LOCK } from "../../src/registry/metadata/postgres/schema.js";
import { BERTH_BIN } from "../client/berth.js";
import type { Cluster } from "../helpers/cluster.js";
import { fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import { run, skopeo, startBerthRegistry, tempDir } from "../helpers/processes.js";
import { sha256 } from "../registry/api-client.js";
import { type GcHarness, gcExclusive, gcUnderPushes } from "../registry/gc-scenario.js";
import { CLUSTER_START, eventually, referencedBlobs, type Scaled, STEP, startScaled } from "./scaled.js";

// The scaled setup (scaled.ts) under concurrent work: two collections at once, collections while
// pushes run on both replicas, a replica killed mid-push. A cluster of its own, so that neither
// this file nor registry-cluster.test.ts comes near the runner's per-file limit.
let scaled: Scaled;
let cluster: Cluster;
let lb: string;
let gc: GcHarness;

before(async () => {
  scaled = await startScaled();
  ({ cluster, lb, gc } = scaled);
}, CLUSTER_START);
after(async () => {
  await scaled?.cluster.down();
});

describe("scaled registry under concurrent work", () => {
  test("two gcs at once: the second exits with a clear message or waits", STEP, async () => {
    await gcExclusive(gc, async () => {
      const client = new pg.Client({ connectionString: cluster.env.PG_URL });
      await client.connect();
      await client.query("SELECT pg_advisory_lock($1)", [GC_LOCK]);
      return async () => {
        await client.end();
      };
    });
  });

  test("gc looping while pushes run on both replicas deletes nothing a pushed tag needs", STEP, async () => {
    await gcUnderPushes(gc, "scaled", 12);
  });

  test(
    "kill -9 of a replica mid-push: skopeo and berth, retrying, finish through the other",
    STEP,
    async () => {
      // skopeo is run again until it succeeds (its --retry-times does not cover every step);
      // berth's own retries must carry its push through in one command.
      const host = lb.slice("http://".length);
      // berth pushes what it pulled from another registry, so every blob is uploaded (no mounts).
      const source = await startBerthRegistry();
      const store = await tempDir("berth-kill-store-");
      const berth = (args: string[]) => run(process.execPath, [BERTH_BIN, "--root", store, ...args]);
      try {
        await skopeo(["copy", `oci:${fixtureLayout()}:app-1`, `docker://${source.host}/src/app:1`]);
        assert.equal((await berth(["pull", "-q", `${source.host}/src/app:1`])).code, 0);
        for (let i = 0; i < 2; i++) {
          assert.equal(
            (await berth(["tag", `${source.host}/src/app:1`, `${host}/killed/berth${i}:1`])).code,
            0,
          );
        }
        const retrying = async (
          what: string,
          attempt: () => Promise<{ code: number | null; stderr: string }>,
        ) => {
          let last = "";
          for (let i = 0; i < 6; i++) {
            const r = await attempt();
            if (r.code === 0) return i;
            last = r.stderr;
            await sleep(500);
          }
          throw new Error(`${what} never finished: ${last}`);
        };
        const pushes = [
          ...[0, 1, 2].map((i) =>
            retrying(`skopeo ${i}`, () =>
              run("skopeo", [
                "copy",
                "--insecure-policy",
                "--dest-tls-verify=false",
                "--retry-times",
                "3",
                `oci:${fixtureLayout()}:app-1`,
                `docker://${host}/killed/skopeo${i}:1`,
              ]),
            ),
          ),
          ...[0, 1].map(async (i) => {
            const r = await berth(["push", "-q", `${host}/killed/berth${i}:1`]);
            assert.equal(r.code, 0, `berth ${i}, one command: ${r.stderr}`);
          }),
        ];
        // Kill once uploads are in flight.
        const db = new pg.Client({ connectionString: cluster.env.PG_URL });
        await db.connect();
        try {
          await eventually(
            async () => Number((await db.query("SELECT count(*) AS n FROM uploads")).rows[0].n) >= 2,
            30_000,
            20,
          );
        } finally {
          await db.end();
        }
        await cluster.kill("replica-1");
        await Promise.all(pushes);
        const expected = fixtureManifest().find((f) => f.tag === "app-1")!;
        for (const repo of ["skopeo0", "skopeo1", "skopeo2", "berth0", "berth1"]) {
          const out = await tempDir("berth-kill-out-");
          await skopeo(["copy", `docker://${host}/killed/${repo}:1`, `oci:${out}:x`]);
          const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
            manifests: { digest: string }[];
          };
          const manifestDigest = index.manifests[0]!.digest;
          if (repo.startsWith("skopeo")) assert.equal(manifestDigest, expected.digest, repo);
          for (const blob of await referencedBlobs(out, manifestDigest)) {
            const bytes = await readFile(join(out, "blobs/sha256", blob.slice(7)));
            assert.equal(sha256(bytes), blob, `${repo}: ${blob} verifies`);
          }
        }
      } finally {
        await source.stop();
        await cluster.start("replica-1").catch(() => {});
      }
    },
  );
});
