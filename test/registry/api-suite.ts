import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  call,
  DOCKER_MANIFEST,
  errorCode,
  makeImage,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  putManifest,
  sha256,
} from "./api-client.js";

/**
 * Endpoint tests derived from the OCI distribution spec v1.1, against a real server: a single
 * Berth process (api.test.ts) or the scaled cluster through haproxy (registry-cluster.test.ts).
 * `start` gives the base URL and a function that stops what it started.
 */
export function registryApiSuite(
  name: string,
  start: () => Promise<{ url: string; stop(): Promise<unknown> }>,
): void {
  describe(name, () => {
    let base: string;
    let registry: { url: string; stop(): Promise<unknown> };
    before(async () => {
      registry = await start();
      base = registry.url;
    });
    after(async () => {
      await registry.stop();
    });

    test("GET /v2/ answers 200 with the API version header", async () => {
      const res = await call(base, "GET", "/v2/");
      assert.equal(res.status, 200);
      assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
    });

    test("unknown endpoints and methods get spec-shaped errors", async () => {
      const res = await call(base, "GET", "/v3/");
      assert.equal(res.status, 404);
      assert.equal(errorCode(res), "UNSUPPORTED");
      const wrongMethod = await call(base, "POST", "/v2/a/tags/list");
      assert.equal(wrongMethod.status, 405);
    });

    describe("blobs", () => {
      test("monolithic POST ?digest= stores the blob, GET and HEAD return it", async () => {
        const data = randomBytes(100_000);
        const digest = sha256(data);
        const res = await call(base, "POST", `/v2/mono/blobs/uploads/?digest=${digest}`, { body: data });
        assert.equal(res.status, 201);
        assert.equal(res.headers.location, `/v2/mono/blobs/${digest}`);
        assert.equal(res.headers["docker-content-digest"], digest);
        const head = await call(base, "HEAD", `/v2/mono/blobs/${digest}`);
        assert.equal(head.status, 200);
        assert.equal(head.headers["content-length"], String(data.length));
        assert.equal(head.headers["docker-content-digest"], digest);
        assert.equal(head.body.length, 0);
        const get = await call(base, "GET", `/v2/mono/blobs/${digest}`);
        assert.equal(get.status, 200);
        assert.ok(get.body.equals(data));
      });

      test("Range requests answer 206 with Content-Range; unsatisfiable ranges 416", async () => {
        const data = Buffer.from("0123456789abcdefghij");
        const digest = await pushBlob(base, "ranges", data);
        const part = await call(base, "GET", `/v2/ranges/blobs/${digest}`, {
          headers: { Range: "bytes=5-9" },
        });
        assert.equal(part.status, 206);
        assert.equal(part.body.toString(), "56789");
        assert.equal(part.headers["content-range"], `bytes 5-9/${data.length}`);
        const open = await call(base, "GET", `/v2/ranges/blobs/${digest}`, {
          headers: { Range: "bytes=15-" },
        });
        assert.equal(open.body.toString(), "fghij");
        const suffix = await call(base, "GET", `/v2/ranges/blobs/${digest}`, {
          headers: { Range: "bytes=-3" },
        });
        assert.equal(suffix.body.toString(), "hij");
        const bad = await call(base, "GET", `/v2/ranges/blobs/${digest}`, {
          headers: { Range: "bytes=50-60" },
        });
        assert.equal(bad.status, 416);
      });

      test("a blob is readable only through repositories it was pushed or mounted to", async () => {
        const digest = await pushBlob(base, "owner/repo", "private bytes");
        const other = await call(base, "GET", `/v2/other/repo/blobs/${digest}`);
        assert.equal(other.status, 404);
        assert.equal(errorCode(other), "BLOB_UNKNOWN");
      });

      test("unknown blobs are 404 BLOB_UNKNOWN and invalid digests 400 DIGEST_INVALID", async () => {
        const missing = await call(base, "GET", `/v2/mono/blobs/${sha256("never pushed")}`);
        assert.equal(missing.status, 404);
        assert.equal(errorCode(missing), "BLOB_UNKNOWN");
        for (const bad of ["sha256:abc", "md5:0123", `sha256:${"G".repeat(64)}`, "..", "sha256"]) {
          const res = await call(base, "GET", `/v2/mono/blobs/${bad}`);
          assert.equal(res.status, 400, bad);
          assert.equal(errorCode(res), "DIGEST_INVALID", bad);
        }
      });

      test("DELETE removes the blob from the repository", async () => {
        const digest = await pushBlob(base, "deleting", "delete me");
        const del = await call(base, "DELETE", `/v2/deleting/blobs/${digest}`);
        assert.equal(del.status, 202);
        assert.equal((await call(base, "HEAD", `/v2/deleting/blobs/${digest}`)).status, 404);
        assert.equal((await call(base, "DELETE", `/v2/deleting/blobs/${digest}`)).status, 404);
      });
    });

    describe("uploads", () => {
      test("chunked upload: POST, PATCH with Content-Range, GET status, PUT with a last chunk", async () => {
        const data = randomBytes(300_000);
        const digest = sha256(data);
        const start = await call(base, "POST", "/v2/chunked/blobs/uploads/");
        assert.equal(start.status, 202);
        const location = start.headers.location!;
        assert.match(location, /^\/v2\/chunked\/blobs\/uploads\/[0-9a-f-]{36}$/);
        assert.ok(start.headers["docker-upload-uuid"]);

        const first = await call(base, "PATCH", location, {
          body: data.subarray(0, 100_000),
          headers: { "Content-Range": "0-99999", "Content-Type": "application/octet-stream" },
        });
        assert.equal(first.status, 202);
        assert.equal(first.headers.range, "0-99999");

        const status = await call(base, "GET", location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.range, "0-99999");

        const second = await call(base, "PATCH", location, {
          body: data.subarray(100_000, 200_000),
          headers: { "Content-Range": "100000-199999" },
        });
        assert.equal(second.headers.range, "0-199999");

        const done = await call(base, "PUT", `${location}?digest=${digest}`, {
          body: data.subarray(200_000),
          headers: { "Content-Range": "200000-299999", "Content-Length": "100000" },
        });
        assert.equal(done.status, 201);
        assert.equal(done.headers["docker-content-digest"], digest);
        const get = await call(base, "GET", `/v2/chunked/blobs/${digest}`);
        assert.ok(get.body.equals(data));
        // The finished session is gone.
        assert.equal((await call(base, "GET", location)).status, 404);
      });

      test("streamed PATCH without Content-Range (chunked transfer encoding)", async () => {
        const parts = [randomBytes(70_000), randomBytes(50_000), randomBytes(1)];
        const whole = Buffer.concat(parts);
        const start = await call(base, "POST", "/v2/streamed/blobs/uploads/");
        async function* body() {
          for (const p of parts) yield p;
        }
        const patch = await call(base, "PATCH", start.headers.location!, { body: body() });
        assert.equal(patch.status, 202);
        assert.equal(patch.headers.range, `0-${whole.length - 1}`);
        const done = await call(base, "PUT", `${start.headers.location}?digest=${sha256(whole)}`);
        assert.equal(done.status, 201);
      });

      test("an out-of-order chunk gets 416 and the upload keeps its data", async () => {
        const start = await call(base, "POST", "/v2/order/blobs/uploads/");
        const loc = start.headers.location!;
        await call(base, "PATCH", loc, { body: "abcde", headers: { "Content-Range": "0-4" } });
        const skip = await call(base, "PATCH", loc, { body: "zz", headers: { "Content-Range": "10-11" } });
        assert.equal(skip.status, 416);
        assert.equal(skip.headers.range, "0-4");
        const overlap = await call(base, "PATCH", loc, { body: "zz", headers: { "Content-Range": "3-4" } });
        assert.equal(overlap.status, 416);
        const ok = await call(base, "PATCH", loc, { body: "fg", headers: { "Content-Range": "5-6" } });
        assert.equal(ok.status, 202);
        const done = await call(base, "PUT", `${loc}?digest=${sha256("abcdefg")}`);
        assert.equal(done.status, 201);
      });

      test("Content-Range and Content-Length that disagree are refused", async () => {
        const start = await call(base, "POST", "/v2/lengths/blobs/uploads/");
        const res = await call(base, "PATCH", start.headers.location!, {
          body: "abc",
          headers: { "Content-Range": "0-9" },
        });
        assert.equal(res.status, 400);
        assert.equal(errorCode(res), "SIZE_INVALID");
      });

      test("a digest that does not match the body is refused and nothing is stored", async () => {
        const wrong = sha256("something else");
        const mono = await call(base, "POST", `/v2/liar/blobs/uploads/?digest=${wrong}`, {
          body: "actual bytes",
        });
        assert.equal(mono.status, 400);
        assert.equal(errorCode(mono), "DIGEST_INVALID");
        assert.equal((await call(base, "HEAD", `/v2/liar/blobs/${wrong}`)).status, 404);
        assert.equal((await call(base, "HEAD", `/v2/liar/blobs/${sha256("actual bytes")}`)).status, 404);

        const start = await call(base, "POST", "/v2/liar/blobs/uploads/");
        await call(base, "PATCH", start.headers.location!, { body: "chunk" });
        const put = await call(base, "PUT", `${start.headers.location}?digest=${wrong}`);
        assert.equal(put.status, 400);
        assert.equal(errorCode(put), "DIGEST_INVALID");
        assert.equal((await call(base, "GET", start.headers.location!)).status, 404);
        assert.equal((await call(base, "HEAD", `/v2/liar/blobs/${sha256("chunk")}`)).status, 404);
      });

      test("PUT without a digest, and unknown upload ids, are errors", async () => {
        const start = await call(base, "POST", "/v2/nodigest/blobs/uploads/");
        const put = await call(base, "PUT", start.headers.location!);
        assert.equal(put.status, 400);
        assert.equal(errorCode(put), "DIGEST_INVALID");
        for (const id of ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "..%2F..%2Fetc"]) {
          const res = await call(base, "PATCH", `/v2/nodigest/blobs/uploads/${id}`, { body: "x" });
          assert.equal(res.status, 404, id);
          assert.equal(errorCode(res), "BLOB_UPLOAD_UNKNOWN", id);
        }
      });

      test("DELETE cancels an upload", async () => {
        const start = await call(base, "POST", "/v2/cancel/blobs/uploads/");
        await call(base, "PATCH", start.headers.location!, { body: "partial" });
        assert.equal((await call(base, "DELETE", start.headers.location!)).status, 204);
        const after = await call(base, "GET", start.headers.location!);
        assert.equal(after.status, 404);
        assert.equal(errorCode(after), "BLOB_UPLOAD_UNKNOWN");
      });

      test("cross-repository mount links a readable blob and falls back to an upload otherwise", async () => {
        const digest = await pushBlob(base, "mount/source", "shared layer");
        const mounted = await call(
          base,
          "POST",
          `/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`,
        );
        assert.equal(mounted.status, 201);
        assert.equal(mounted.headers.location, `/v2/mount/target/blobs/${digest}`);
        const get = await call(base, "GET", `/v2/mount/target/blobs/${digest}`);
        assert.equal(get.body.toString(), "shared layer");

        const fallback = await call(
          base,
          "POST",
          `/v2/mount/third/blobs/uploads/?mount=${digest}&from=mount/nowhere`,
        );
        assert.equal(fallback.status, 202);
        assert.match(fallback.headers.location!, /\/v2\/mount\/third\/blobs\/uploads\//);
        assert.equal((await call(base, "HEAD", `/v2/mount/third/blobs/${digest}`)).status, 404);
      });
    });

    describe("manifests", () => {
      test("PUT by tag, GET and HEAD by tag and by digest", async () => {
        const img = await makeImage(base, "lib/app", "one");
        const put = await putManifest(base, "lib/app", "v1", img.manifest);
        assert.equal(put.status, 201);
        assert.equal(put.headers["docker-content-digest"], img.digest);
        assert.equal(put.headers.location, `/v2/lib/app/manifests/${img.digest}`);
        for (const ref of ["v1", img.digest]) {
          const get = await call(base, "GET", `/v2/lib/app/manifests/${ref}`, {
            headers: { Accept: OCI_MANIFEST },
          });
          assert.equal(get.status, 200);
          assert.ok(get.body.equals(img.manifest));
          assert.equal(get.headers["content-type"], OCI_MANIFEST);
          assert.equal(get.headers["docker-content-digest"], img.digest);
          const head = await call(base, "HEAD", `/v2/lib/app/manifests/${ref}`);
          assert.equal(head.status, 200);
          assert.equal(head.headers["content-length"], String(img.manifest.length));
        }
      });

      test("PUT by digest checks the digest", async () => {
        const img = await makeImage(base, "bydigest", "two");
        const ok = await putManifest(base, "bydigest", img.digest, img.manifest);
        assert.equal(ok.status, 201);
        const bad = await putManifest(base, "bydigest", sha256("other"), img.manifest);
        assert.equal(bad.status, 400);
        assert.equal(errorCode(bad), "DIGEST_INVALID");
      });

      test("a manifest referencing missing blobs is refused and nothing is stored", async () => {
        const img = await makeImage(base, "incomplete", "three");
        const missing = sha256("no such layer");
        const body = Buffer.from(img.manifest.toString().replace(img.layer, missing));
        const res = await putManifest(base, "incomplete", "v1", body);
        // distribution's status for MANIFEST_BLOB_UNKNOWN (errcode.ErrorCodeManifestBlobUnknown) is 400.
        assert.equal(res.status, 400);
        assert.equal(errorCode(res), "MANIFEST_BLOB_UNKNOWN");
        assert.equal(
          res.json<{ errors: { detail: { digest: string } }[] }>().errors[0]!.detail.digest,
          missing,
        );
        assert.equal((await call(base, "GET", "/v2/incomplete/manifests/v1")).status, 404);
        assert.equal((await call(base, "GET", `/v2/incomplete/manifests/${sha256(body)}`)).status, 404);
        // Blobs from another repository do not count either.
        const elsewhere = await makeImage(base, "elsewhere", "four");
        const cross = await putManifest(base, "incomplete", "v2", elsewhere.manifest);
        assert.equal(errorCode(cross), "MANIFEST_BLOB_UNKNOWN");
      });

      test("malformed, invalid and oversized manifests are refused", async () => {
        const cases: [string, Buffer | string, number, string][] = [
          ["not json", "{not json", 400, "MANIFEST_INVALID"],
          [
            "schema 1",
            JSON.stringify({ schemaVersion: 1, name: "x", tag: "y", fsLayers: [] }),
            400,
            "MANIFEST_INVALID",
          ],
          [
            "no config",
            JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }),
            400,
            "MANIFEST_INVALID",
          ],
          [
            "bad layer digest",
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256("c"), size: 1 },
              layers: [
                { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: "sha256:nothex", size: 1 },
              ],
            }),
            400,
            "MANIFEST_INVALID",
          ],
          ["oversized", Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), 413, "SIZE_INVALID"],
        ];
        for (const [what, body, status, code] of cases) {
          const res = await putManifest(base, "invalid", "v1", Buffer.from(body));
          assert.equal(res.status, status, what);
          assert.equal(errorCode(res), code, what);
        }
        assert.equal((await call(base, "GET", "/v2/invalid/tags/list")).status, 404);
      });

      test("invalid names and tags are refused, including traversal tricks", async () => {
        for (const name of ["UPPER", "a/../b", "..", "a//b", "-lead", "a/", "%2e%2e", "a/_layers", "a%20b"]) {
          const res = await call(base, "GET", `/v2/${name}/manifests/latest`);
          assert.ok(res.status === 400 || res.status === 404, `${name}: ${res.status}`);
          if (res.status === 400) assert.equal(errorCode(res), "NAME_INVALID", name);
          else assert.notEqual(errorCode(res), "MANIFEST_UNKNOWN", name);
        }
        const longName = `${"a".repeat(200)}/${"b".repeat(60)}`;
        assert.equal(errorCode(await call(base, "GET", `/v2/${longName}/tags/list`)), "NAME_INVALID");
        for (const tag of ["-bad", ".hidden", "a".repeat(129), "t%2F..%2F.."]) {
          const img = await makeImage(base, "tags/bad", tag.slice(0, 8));
          const res = await putManifest(base, "tags/bad", tag, img.manifest);
          assert.equal(res.status, 400, tag);
          assert.equal(errorCode(res), "TAG_INVALID", tag);
        }
      });

      test("GET and HEAD of a reference that is neither a tag nor a digest are 404 MANIFEST_UNKNOWN", async () => {
        const img = await makeImage(base, "badref", "refs");
        await putManifest(base, "badref", "v1", img.manifest);
        const refs = [
          "-bad",
          ".hidden",
          "a".repeat(129),
          "sha256:abc",
          "md5:0123",
          `sha256:${"G".repeat(64)}`,
          "sha256:",
        ];
        for (const ref of refs) {
          const get = await call(base, "GET", `/v2/badref/manifests/${ref}`);
          assert.equal(get.status, 404, ref);
          assert.equal(errorCode(get), "MANIFEST_UNKNOWN", ref);
          const head = await call(base, "HEAD", `/v2/badref/manifests/${ref}`);
          assert.equal(head.status, 404, ref);
          assert.equal(head.body.length, 0, ref);
        }
        // Writing or deleting under such a reference is the client's mistake, as before.
        assert.equal(
          errorCode(await putManifest(base, "badref", "sha256:abc", img.manifest)),
          "DIGEST_INVALID",
        );
        assert.equal(errorCode(await putManifest(base, "badref", "-bad", img.manifest)), "TAG_INVALID");
        assert.equal(
          errorCode(await call(base, "DELETE", "/v2/badref/manifests/sha256:abc")),
          "DIGEST_INVALID",
        );
        // A valid tag that is not there is unknown too, and the real one still reads.
        assert.equal(errorCode(await call(base, "GET", "/v2/badref/manifests/v2")), "MANIFEST_UNKNOWN");
        assert.equal((await call(base, "GET", "/v2/badref/manifests/v1")).status, 200);
      });

      test("the Accept header is honoured: an OCI manifest is not served to a Docker-only client", async () => {
        const img = await makeImage(base, "negotiate", "five");
        await putManifest(base, "negotiate", "v1", img.manifest);
        const dockerOnly = await call(base, "GET", "/v2/negotiate/manifests/v1", {
          headers: { Accept: DOCKER_MANIFEST },
        });
        assert.equal(dockerOnly.status, 404);
        assert.equal(errorCode(dockerOnly), "MANIFEST_UNKNOWN");
        const any = await call(base, "GET", "/v2/negotiate/manifests/v1", { headers: { Accept: "*/*" } });
        assert.equal(any.status, 200);
        const list = await call(base, "GET", "/v2/negotiate/manifests/v1", {
          headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST};q=0.9` },
        });
        assert.equal(list.status, 200);
      });

      test("an index needs its child manifests; a tag fetched without index support resolves to linux/amd64", async () => {
        const amd = await makeImage(base, "multi", "amd64");
        const arm = await makeImage(base, "multi", "arm64");
        const index = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_INDEX,
            manifests: [
              {
                mediaType: OCI_MANIFEST,
                digest: amd.digest,
                size: amd.manifest.length,
                platform: { os: "linux", architecture: "amd64" },
              },
              {
                mediaType: OCI_MANIFEST,
                digest: arm.digest,
                size: arm.manifest.length,
                platform: { os: "linux", architecture: "arm64", variant: "v8" },
              },
            ],
          }),
        );
        const early = await putManifest(base, "multi", "v1", index, OCI_INDEX);
        assert.equal(early.status, 400);
        assert.equal(errorCode(early), "MANIFEST_BLOB_UNKNOWN");
        await putManifest(base, "multi", amd.digest, amd.manifest);
        await putManifest(base, "multi", arm.digest, arm.manifest);
        const put = await putManifest(base, "multi", "v1", index, OCI_INDEX);
        assert.equal(put.status, 201);
        const get = await call(base, "GET", "/v2/multi/manifests/v1", { headers: { Accept: OCI_INDEX } });
        assert.equal(get.headers["content-type"], OCI_INDEX);
        const single = await call(base, "GET", "/v2/multi/manifests/v1", {
          headers: { Accept: OCI_MANIFEST },
        });
        assert.equal(single.status, 200);
        assert.equal(single.headers["docker-content-digest"], amd.digest);
      });

      test("DELETE by digest removes the manifest and its tags; DELETE by tag removes only the tag", async () => {
        const img = await makeImage(base, "del/man", "six");
        await putManifest(base, "del/man", "a", img.manifest);
        await putManifest(base, "del/man", "b", img.manifest);
        assert.equal((await call(base, "DELETE", "/v2/del/man/manifests/a")).status, 202);
        assert.equal((await call(base, "GET", "/v2/del/man/manifests/a")).status, 404);
        assert.equal((await call(base, "GET", "/v2/del/man/manifests/b")).status, 200);
        assert.equal((await call(base, "DELETE", `/v2/del/man/manifests/${img.digest}`)).status, 202);
        assert.equal((await call(base, "GET", `/v2/del/man/manifests/${img.digest}`)).status, 404);
        assert.equal((await call(base, "GET", "/v2/del/man/manifests/b")).status, 404);
        assert.deepEqual((await call(base, "GET", "/v2/del/man/tags/list")).json(), {
          name: "del/man",
          tags: [],
        });
        const again = await call(base, "DELETE", `/v2/del/man/manifests/${img.digest}`);
        assert.equal(again.status, 404);
        assert.equal(errorCode(again), "MANIFEST_UNKNOWN");
      });
    });

    describe("tags, catalog and referrers", () => {
      test("tags/list is sorted and paginates with n, last and Link", async () => {
        const img = await makeImage(base, "paged/tags", "seven");
        const tags = ["b", "a", "c", "1.0", "latest"];
        for (const t of tags) await putManifest(base, "paged/tags", t, img.manifest);
        const all = await call(base, "GET", "/v2/paged/tags/tags/list");
        assert.deepEqual(all.json(), { name: "paged/tags", tags: ["1.0", "a", "b", "c", "latest"] });
        const p1 = await call(base, "GET", "/v2/paged/tags/tags/list?n=2");
        assert.deepEqual(p1.json<{ tags: string[] }>().tags, ["1.0", "a"]);
        assert.equal(p1.headers.link, '</v2/paged/tags/tags/list?n=2&last=a>; rel="next"');
        const p2 = await call(base, "GET", "/v2/paged/tags/tags/list?n=2&last=a");
        assert.deepEqual(p2.json<{ tags: string[] }>().tags, ["b", "c"]);
        const p3 = await call(base, "GET", "/v2/paged/tags/tags/list?n=2&last=c");
        assert.deepEqual(p3.json<{ tags: string[] }>().tags, ["latest"]);
        assert.equal(p3.headers.link, undefined);
        const unknown = await call(base, "GET", "/v2/no/such/repo/tags/list");
        assert.equal(unknown.status, 404);
        assert.equal(errorCode(unknown), "NAME_UNKNOWN");
      });

      test("_catalog lists repositories with manifests, paginated", async () => {
        for (const name of ["cat/zeta", "cat/alpha", "cat/mid/deep"]) {
          const img = await makeImage(base, name, name);
          await putManifest(base, name, "v1", img.manifest);
        }
        const all = (await call(base, "GET", "/v2/_catalog")).json<{ repositories: string[] }>().repositories;
        for (const name of ["cat/alpha", "cat/mid/deep", "cat/zeta"]) assert.ok(all.includes(name), name);
        assert.deepEqual(all, [...all].sort());
        assert.ok(!all.includes("mono"), "a repository with only blobs is not listed");
        const page = await call(base, "GET", "/v2/_catalog?n=1&last=cat/alpha");
        assert.deepEqual(page.json(), { repositories: ["cat/mid/deep"] });
        assert.match(page.headers.link!, /^<\/v2\/_catalog\?n=1&last=cat%2Fmid%2Fdeep>; rel="next"$/);
      });

      test("referrers lists manifests whose subject is the digest, filtered by artifactType", async () => {
        const subject = await makeImage(base, "refs", "subject");
        await putManifest(base, "refs", "v1", subject.manifest);
        const emptyConfig = await pushBlob(base, "refs", "{}");
        const mkArtifact = (artifactType: string, note: string) =>
          Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              artifactType,
              config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyConfig, size: 2 },
              layers: [],
              subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
              annotations: { note },
            }),
          );
        const sig = mkArtifact("application/vnd.example.signature", "sig");
        const sbom = mkArtifact("application/vnd.example.sbom", "sbom");
        const put = await putManifest(base, "refs", sha256(sig), sig);
        assert.equal(put.status, 201);
        assert.equal(put.headers["oci-subject"], subject.digest);
        await putManifest(base, "refs", sha256(sbom), sbom);
        const all = await call(base, "GET", `/v2/refs/referrers/${subject.digest}`);
        assert.equal(all.status, 200);
        assert.equal(all.headers["content-type"], OCI_INDEX);
        const index = all.json<{
          manifests: { digest: string; artifactType: string; annotations: object }[];
        }>();
        assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sha256(sig), sha256(sbom)].sort());
        const sigEntry = index.manifests.find((m) => m.digest === sha256(sig))!;
        assert.equal(sigEntry.artifactType, "application/vnd.example.signature");
        assert.deepEqual(sigEntry.annotations, { note: "sig" });
        const filtered = await call(
          base,
          "GET",
          `/v2/refs/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`,
        );
        assert.equal(filtered.headers["oci-filters-applied"], "artifactType");
        assert.deepEqual(
          filtered.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest),
          [sha256(sbom)],
        );
        const none = await call(base, "GET", `/v2/refs/referrers/${sha256("nothing refers")}`);
        assert.equal(none.status, 200);
        assert.deepEqual(none.json<{ manifests: unknown[] }>().manifests, []);
        await call(base, "DELETE", `/v2/refs/manifests/${sha256(sig)}`);
        const after = await call(base, "GET", `/v2/refs/referrers/${subject.digest}`);
        assert.deepEqual(
          after.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest),
          [sha256(sbom)],
        );
      });
    });
  });
}
