import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Server, startBerthRegistry } from "../helpers/processes.js";
import { call, makeImage, putManifest } from "./api-client.js";

// Two server processes over one filesystem root: whatever one writes, the other reads at once,
// because tags, links, revisions and the catalog are read through the metadata on every request.
let a: Server;
let b: Server;
before(async () => {
  a = await startBerthRegistry();
  b = await startBerthRegistry({ root: a.root });
});
after(async () => {
  await a.stop();
  await b.stop();
});

test("a tag written through one process is read, moved and deleted through the other at once", async () => {
  const one = await makeImage(a.url, "shared/app", "one");
  const two = await makeImage(a.url, "shared/app", "two");
  // b reads the tag list before anything exists, so a cache there would now be wrong.
  assert.equal((await call(b.url, "GET", "/v2/shared/app/tags/list")).status, 404);
  assert.equal((await call(b.url, "GET", "/v2/shared/app/manifests/latest")).status, 404);
  assert.equal((await putManifest(a.url, "shared/app", "latest", one.manifest)).status, 201);
  const first = await call(b.url, "GET", "/v2/shared/app/manifests/latest");
  assert.equal(first.headers["docker-content-digest"], one.digest);
  assert.deepEqual((await call(b.url, "GET", "/v2/shared/app/tags/list")).json(), {
    name: "shared/app",
    tags: ["latest"],
  });
  assert.ok(
    (await call(b.url, "GET", "/v2/_catalog"))
      .json<{ repositories: string[] }>()
      .repositories.includes("shared/app"),
  );
  await putManifest(a.url, "shared/app", "latest", two.manifest);
  assert.equal(
    (await call(b.url, "GET", "/v2/shared/app/manifests/latest")).headers["docker-content-digest"],
    two.digest,
  );
  assert.equal((await call(a.url, "DELETE", "/v2/shared/app/manifests/latest")).status, 202);
  assert.equal((await call(b.url, "GET", "/v2/shared/app/manifests/latest")).status, 404);
  // Links too: a blob deleted from the repository through b is gone for a.
  assert.equal((await call(a.url, "HEAD", `/v2/shared/app/blobs/${one.layer}`)).status, 200);
  assert.equal((await call(b.url, "DELETE", `/v2/shared/app/blobs/${one.layer}`)).status, 202);
  assert.equal((await call(a.url, "HEAD", `/v2/shared/app/blobs/${one.layer}`)).status, 404);
});

test("an upload started on one process is finished on the other", async () => {
  const data = Buffer.alloc(300_000, 7);
  const start = await call(a.url, "POST", "/v2/shared/up/blobs/uploads/");
  const loc = start.headers.location!;
  await call(a.url, "PATCH", loc, {
    body: data.subarray(0, 100_000),
    headers: { "Content-Range": "0-99999" },
  });
  await call(b.url, "PATCH", loc, {
    body: data.subarray(100_000, 200_000),
    headers: { "Content-Range": "100000-199999" },
  });
  const status = await call(a.url, "GET", loc);
  assert.equal(status.headers.range, "0-199999");
  const { createHash } = await import("node:crypto");
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  // a's own hash state covers only the first chunk: it must hash again from storage, not trust it.
  const done = await call(a.url, "PUT", `${loc}?digest=${digest}`, {
    body: data.subarray(200_000),
    headers: { "Content-Range": "200000-299999" },
  });
  assert.equal(done.status, 201, done.body.toString());
  const get = await call(b.url, "GET", `/v2/shared/up/blobs/${digest}`);
  assert.ok(get.body.equals(data));
});
