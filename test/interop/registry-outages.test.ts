import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import YAML from "yaml";
import { GC_LOCK } from "../../src/registry/metadata/postgres/schema.js";
import { type Cluster, startCluster } from "../helpers/cluster.js";
import { repoRoot } from "../helpers/fixtures.js";
import { run, type Server, startBerthRegistry } from "../helpers/processes.js";
import {
  call,
  errorCode,
  makeImage,
  OCI_MANIFEST,
  putManifest,
  type RawResponse,
  sha256,
} from "../registry/api-client.js";

// Issue 16's crash test of the scaled registry, as tests: PostgreSQL and radosgw stopped while
// uploads are being written and collections run. Every replica must stay up, answer 503 with
// Retry-After meanwhile (never a 500) and recover by itself. One cluster for the file.
let cluster: Cluster;
let r1: string;
let r2: string;

before(async () => {
  cluster = await startCluster(2);
  [r1, r2] = cluster.replicas.map((r) => r.url) as [string, string];
});
after(async () => {
  await cluster?.down();
});

/** An upload PATCH whose body stops after `head` bytes until `go()` is called, then sends the rest. */
function gatedPatch(base: string, location: string, data: Buffer, head: number) {
  let go: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    go = resolve;
  });
  let reachedGate: () => void = () => {};
  const atGate = new Promise<void>((resolve) => {
    reachedGate = resolve;
  });
  async function* body(): AsyncGenerator<Buffer> {
    for (let at = 0; at < data.length; at += 256 * 1024) {
      if (at >= head) {
        reachedGate();
        await gate;
      }
      yield data.subarray(at, Math.min(data.length, at + 256 * 1024));
    }
    reachedGate();
  }
  const response: Promise<RawResponse | Error> = call(base, "PATCH", location, {
    body: body(),
    headers: { "Content-Range": `0-${data.length - 1}`, "Content-Length": String(data.length) },
  }).catch((err: Error) => err);
  return { atGate, go, response };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000, stepMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(stepMs);
  }
}

/** Finishes an upload after an outage: from the size its status reports, as a client resumes. */
async function resume(base: string, location: string, data: Buffer): Promise<void> {
  let range = "";
  await eventually(async () => {
    const status = await call(base, "GET", location);
    range = status.headers.range ?? "";
    return status.status === 204;
  });
  // "0-0" is also what an empty upload answers; nothing here stores exactly one byte.
  const end = Number(/^0-(\d+)$/.exec(range)?.[1] ?? -1);
  const stored = end > 0 ? end + 1 : 0;
  assert.ok(stored >= 0 && stored <= data.length, `status range ${range}`);
  const done = await call(
    base,
    "PUT",
    `${location}?digest=${sha256(data)}`,
    stored < data.length
      ? { body: data.subarray(stored), headers: { "Content-Range": `${stored}-${data.length - 1}` } }
      : {},
  );
  assert.equal(done.status, 201, done.body.toString());
  const repository = location.slice("/v2/".length, location.indexOf("/blobs/uploads/"));
  const got = await call(base, "GET", `/v2/${repository}/blobs/${sha256(data)}`);
  assert.ok(got.body.equals(data), "the blob is the client's data, whole");
}

test("PostgreSQL dying under uploads and a collection: every replica stays up, answers 503, recovers", async () => {
  // A third replica over the same backends that collects every second, so that one holds the GC
  // lock's connection when PostgreSQL goes.
  const config = YAML.parse(await readFile(cluster.configFile, "utf8")) as Record<string, unknown>;
  const collecting: Server = await startBerthRegistry({
    config: { ...config, gc: { interval: "1s", grace: "1h" } },
  });
  const replicas = [r1, r2, collecting.url];
  const pids = [...cluster.replicas.map((r) => r.pid), collecting.proc.pid!];
  try {
    const img = await makeImage(r1, "pgdies/app", "before");
    assert.equal((await putManifest(r1, "pgdies/app", "v1", img.manifest)).status, 201);
    const uploads = await Promise.all(
      [r1, r2].map(async (base) => {
        const data = randomBytes(3 * 1024 * 1024 + 17);
        const start = await call(base, "POST", "/v2/pgdies/up/blobs/uploads/");
        assert.equal(start.status, 202);
        const location = start.headers.location!;
        return { base, data, location, patch: gatedPatch(base, location, data, 1024 * 1024) };
      }),
    );
    await Promise.all(uploads.map((u) => u.patch.atGate));

    // Both uploads hold their session's lock and a collection holds the GC lock: now.
    const db = new pg.Client({ connectionString: cluster.env.PG_URL });
    db.on("error", () => {});
    await db.connect();
    const held = async () => {
      const r = await db.query(
        `SELECT count(*) FILTER (WHERE objsubid = 2) AS uploads,
                count(*) FILTER (WHERE objsubid = 1 AND classid = 0 AND objid = $1) AS gc
         FROM pg_locks WHERE locktype = 'advisory' AND granted`,
        [GC_LOCK],
      );
      return Number(r.rows[0].uploads) >= 2 && Number(r.rows[0].gc) === 1;
    };
    await eventually(held, 60_000, 10);
    const postmaster = Number((await readFile(join(cluster.dir, "postgres.pid"), "utf8")).trim());
    process.kill(-postmaster, "SIGKILL");
    await db.end().catch(() => {});
    await cluster.kill("postgres").catch(() => {});
    try {
      for (const u of uploads) u.patch.go();
      for (const u of uploads) {
        const res = await u.patch.response;
        assert.ok(!(res instanceof Error), `the PATCH got an answer: ${res}`);
        assert.equal(res.status, 503, res.body.toString());
        assert.equal(errorCode(res), "UNAVAILABLE");
        assert.equal(res.headers["retry-after"], "1");
      }
      await sleep(2000);
      for (const base of replicas) {
        const res = await call(base, "GET", "/v2/pgdies/app/manifests/v1");
        assert.equal(res.status, 503, `${base} answers 503 meanwhile`);
        assert.equal(res.headers["retry-after"], "1");
      }
      for (const pid of pids) assert.ok(alive(pid), `replica ${pid} is still running`);
    } finally {
      await cluster.start("postgres");
    }
    for (const base of replicas) {
      await eventually(
        async () =>
          (await call(base, "GET", "/v2/pgdies/app/manifests/v1", { headers: { Accept: OCI_MANIFEST } }))
            .status === 200,
      );
    }
    for (const u of uploads) await resume(u.base, u.location, u.data);
    for (const pid of pids) assert.ok(alive(pid), `replica ${pid} is still running`);
    assert.doesNotMatch(collecting.logs(), /Unhandled 'error' event|uncaughtException/);
  } finally {
    await collecting.stop();
  }
});

test("radosgw dying under an upload PATCH: 503 with Retry-After, never 500; the upload resumes", async () => {
  // A body big enough that a part (8 MiB) goes to object storage before the outage and more after.
  const data = randomBytes(14 * 1024 * 1024 + 5);
  const start = await call(r1, "POST", "/v2/rgwdies/up/blobs/uploads/");
  const location = start.headers.location!;
  const patch = gatedPatch(r1, location, data, 10 * 1024 * 1024);
  await patch.atGate;
  await sleep(300);
  await cluster.kill("radosgw");
  try {
    patch.go();
    const res = await patch.response;
    assert.ok(!(res instanceof Error), `the PATCH got an answer: ${res}`);
    assert.equal(res.status, 503, res.body.toString());
    assert.equal(errorCode(res), "UNAVAILABLE");
    assert.equal(res.headers["retry-after"], "1");
    for (const [method, base, body] of [
      ["PATCH", r1, randomBytes(1000)],
      ["PATCH", r2, randomBytes(1000)],
      ["GET", r2, undefined],
      ["PUT", r1, undefined],
    ] as const) {
      const path = method === "PUT" ? `${location}?digest=${sha256(data)}` : location;
      const during = await call(base, method, path, body ? { body } : {});
      assert.equal(during.status, 503, `${method} ${during.body.toString()}`);
      assert.equal(during.headers["retry-after"], "1");
    }
    for (const [i, replica] of cluster.replicas.entries()) {
      const log = await readFile(join(cluster.dir, `replica-${i + 1}/log`), "utf8");
      assert.doesNotMatch(log, /"msg":"request failed"/, `replica ${i + 1} answered no 500`);
      assert.ok(alive(replica.pid));
    }
  } finally {
    await cluster.start("radosgw");
  }
  await resume(r2, location, data);
});

test("registry gc on PostgreSQL reports the upload sessions still open", async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal((await call(r2, "POST", "/v2/gcreport/blobs/uploads/")).status, 202);
  }
  const gc = await run(process.execPath, [
    join(repoRoot(), "bin/berth.js"),
    "registry",
    "gc",
    "--config",
    cluster.configFile,
    "--dry-run",
    "--grace",
    "0",
  ]);
  assert.equal(gc.code, 0, gc.stderr);
  const open = Number(
    /^(\d+) upload sessions? older than the grace period \(0\) still open/m.exec(gc.stdout)?.[1],
  );
  // These three, and those the outages above left open.
  assert.ok(open >= 3, gc.stdout);
});
