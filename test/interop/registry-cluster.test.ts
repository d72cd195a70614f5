import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cluster } from "../helpers/cluster.js";
import { fixtureLayout, fixtureManifest } from "../helpers/fixtures.js";
import { skopeo, tempDir } from "../helpers/processes.js";
import {
  call,
  errorCode,
  makeImage,
  OCI_MANIFEST,
  pushBlob,
  putManifest,
  sha256,
} from "../registry/api-client.js";
import { registryApiSuite } from "../registry/api-suite.js";
import { type GcHarness, gcCorrectness } from "../registry/gc-scenario.js";
import { CLUSTER_START, eventually, referencedBlobs, type Scaled, STEP, startScaled } from "./scaled.js";

// The scaled setup (scaled.ts), started once for this file; registry-cluster-load.test.ts has
// the concurrent GC and kill -9 cases on a cluster of its own.
let scaled: Scaled;
let cluster: Cluster;
let lb: string;
let r1: string;
let r2: string;
let gc: GcHarness;

before(async () => {
  scaled = await startScaled();
  ({ cluster, lb, r1, r2, gc } = scaled);
}, CLUSTER_START);
after(async () => {
  await scaled?.cluster.down();
});

// First, while the registry holds nothing else: the scenario counts what a collection deletes.
test("gc on the scaled setup: freed blobs 404, shared and referenced ones stay", STEP, async () => {
  await gcCorrectness(gc, "scaled");
});

registryApiSuite("registry API through haproxy: 2 replicas, radosgw, PostgreSQL", async () => ({
  url: lb,
  stop: async () => {},
}));

describe("scaled registry", () => {
  test("a tag written on one replica is read on the other at once, every time", STEP, async () => {
    const images: Awaited<ReturnType<typeof makeImage>>[] = [];
    for (let i = 0; i < 3; i++) images.push(await makeImage(r1, "raw/app", `img${i}`));
    for (let round = 0; round < 12; round++) {
      const [writer, reader] = round % 2 ? [r2, r1] : [r1, r2];
      const img = images[round % images.length]!;
      assert.equal((await putManifest(writer, "raw/app", "moving", img.manifest)).status, 201);
      const got = await call(reader, "GET", "/v2/raw/app/manifests/moving", {
        headers: { Accept: OCI_MANIFEST },
      });
      assert.equal(got.headers["docker-content-digest"], img.digest, `round ${round}`);
    }
    assert.deepEqual((await call(r2, "GET", "/v2/raw/app/tags/list")).json(), {
      name: "raw/app",
      tags: ["moving"],
    });
    assert.equal((await call(r2, "DELETE", "/v2/raw/app/manifests/moving")).status, 202);
    assert.equal((await call(r1, "GET", "/v2/raw/app/manifests/moving")).status, 404);
    const catalog = (await call(r1, "GET", "/v2/_catalog")).json<{ repositories: string[] }>();
    assert.ok(catalog.repositories.includes("raw/app"));
  });

  test(
    "an upload started on one replica takes chunks on both and is finished on the other",
    STEP,
    async () => {
      // Big enough for S3 parts (5 MiB) and pending tails at each chunk boundary.
      const data = randomBytes(13 * 1024 * 1024 + 321);
      const cuts = [0, 6 * 1024 * 1024 + 5, 7 * 1024 * 1024, 12 * 1024 * 1024 + 17, data.length];
      const start = await call(r1, "POST", "/v2/cross/up/blobs/uploads/");
      assert.equal(start.status, 202);
      const loc = start.headers.location!;
      for (let i = 0; i + 1 < cuts.length - 1; i++) {
        const base = i % 2 ? r1 : r2;
        const res = await call(base, "PATCH", loc, {
          body: data.subarray(cuts[i], cuts[i + 1]),
          headers: { "Content-Range": `${cuts[i]}-${cuts[i + 1]! - 1}` },
        });
        assert.equal(res.status, 202, res.body.toString());
        assert.equal(res.headers.range, `0-${cuts[i + 1]! - 1}`);
      }
      const status = await call(r1, "GET", loc);
      assert.equal(status.headers.range, `0-${cuts[3]! - 1}`);
      const wrongStart = await call(r2, "PATCH", loc, { body: "x", headers: { "Content-Range": "5-5" } });
      assert.equal(wrongStart.status, 416);
      assert.equal(wrongStart.headers.range, `0-${cuts[3]! - 1}`);
      const done = await call(r2, "PUT", `${loc}?digest=${sha256(data)}`, {
        body: data.subarray(cuts[3]),
        headers: { "Content-Range": `${cuts[3]}-${data.length - 1}` },
      });
      assert.equal(done.status, 201, done.body.toString());
      const got = await call(lb, "GET", `/v2/cross/up/blobs/${sha256(data)}`);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(data));
      assert.equal((await call(r1, "GET", loc)).status, 404, "the finished session is gone everywhere");
    },
  );

  for (const fixture of ["busybox-1", "multi-1"]) {
    test(`skopeo copy ${fixture} in and out through the load balancer is byte-identical`, STEP, async () => {
      const host = lb.slice("http://".length);
      const expected = fixtureManifest().find((f) => f.tag === fixture)!;
      await skopeo([
        "copy",
        "--all",
        `oci:${fixtureLayout()}:${fixture}`,
        `docker://${host}/lb/${fixture}:v1`,
      ]);
      const raw = await skopeo(["inspect", "--raw", `docker://${host}/lb/${fixture}:v1`]);
      assert.equal(sha256(raw.stdout), expected.digest);
      const out = await tempDir("berth-cluster-out-");
      await skopeo(["copy", "--all", `docker://${host}/lb/${fixture}:v1`, `oci:${out}:${fixture}`]);
      for (const blob of await referencedBlobs(fixtureLayout(), expected.digest)) {
        const a = await readFile(join(fixtureLayout(), "blobs/sha256", blob.slice(7)));
        const b = await readFile(join(out, "blobs/sha256", blob.slice(7)));
        assert.ok(a.equals(b), `blob ${blob} identical`);
      }
    });
  }

  test(
    "PostgreSQL down: 503 and a log line, nothing half-written, and recovery by itself",
    STEP,
    async () => {
      const img = await makeImage(r1, "outage/pg", "before");
      assert.equal((await putManifest(r1, "outage/pg", "v1", img.manifest)).status, 201);
      const other = await makeImage(r1, "outage/pg", "during");
      await cluster.kill("postgres");
      try {
        const get = await call(r1, "GET", "/v2/outage/pg/manifests/v1");
        assert.equal(get.status, 503);
        assert.equal(errorCode(get), "UNAVAILABLE");
        const put = await putManifest(r2, "outage/pg", "v2", other.manifest);
        assert.equal(put.status, 503);
        assert.equal((await call(r2, "POST", "/v2/outage/pg/blobs/uploads/")).status, 503);
        const log = await readFile(join(cluster.dir, "replica-1/log"), "utf8");
        assert.match(log, /backend unavailable: answered 503/);
        assert.match(log, /metadata unavailable: PostgreSQL/);
      } finally {
        await cluster.start("postgres");
      }
      await eventually(async () => (await call(r1, "GET", "/v2/outage/pg/manifests/v1")).status === 200);
      await eventually(async () => (await call(r2, "GET", "/v2/outage/pg/manifests/v1")).status === 200);
      assert.equal(
        (await call(r2, "GET", "/v2/outage/pg/manifests/v2")).status,
        404,
        "the refused PUT left nothing",
      );
      assert.equal((await putManifest(r2, "outage/pg", "v2", other.manifest)).status, 201);
    },
  );

  test("object storage down: 503 and a log line, no partial blob, and recovery by itself", STEP, async () => {
    const blob = randomBytes(200_000);
    const digest = await pushBlob(r1, "outage/s3", blob);
    const during = randomBytes(100_000);
    await cluster.kill("radosgw");
    try {
      const get = await call(r2, "GET", `/v2/outage/s3/blobs/${digest}`);
      assert.equal(get.status, 503);
      assert.equal(errorCode(get), "UNAVAILABLE");
      const push = await call(r1, "POST", `/v2/outage/s3/blobs/uploads/?digest=${sha256(during)}`, {
        body: during,
      });
      assert.equal(push.status, 503);
      const log = await readFile(join(cluster.dir, "replica-2/log"), "utf8");
      assert.match(log, /object storage: ECONNREFUSED[^\n]*backend unavailable: answered 503/);
    } finally {
      await cluster.start("radosgw");
    }
    await eventually(
      async () => (await call(r2, "GET", `/v2/outage/s3/blobs/${digest}`)).status === 200,
      60_000,
    );
    assert.ok((await call(r1, "GET", `/v2/outage/s3/blobs/${digest}`)).body.equals(blob));
    assert.equal(
      (await call(r1, "HEAD", `/v2/outage/s3/blobs/${sha256(during)}`)).status,
      404,
      "no partial blob",
    );
    assert.equal(await pushBlob(r1, "outage/s3", during), sha256(during));
  });
});
