import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { matchRoute, type RouteMatch, urls } from "../../src/oci/distribution-routes.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("the distribution API's URL shapes", () => {
  // [path, what the router must make of it]: the spec's endpoints (end-1 … end-13), with
  // repository names that contain the API's own words, which only the suffix tells apart.
  const table: [string, RouteMatch | undefined][] = [
    ["/v2/", { route: "base" }],
    ["/v2", { route: "base" }],
    ["/v2/_catalog", { route: "catalog" }],
    ["/v1/search", { route: "search" }],
    ["/v2/library/busybox/tags/list", { route: "tags", name: "library/busybox" }],
    ["/v2/a/tags/tags/list", { route: "tags", name: "a/tags" }],
    ["/v2/a/manifests/tags/list", { route: "tags", name: "a/manifests" }],
    ["/v2/app/manifests/v1", { route: "manifest", name: "app", reference: "v1" }],
    ["/v2/a/tags/manifests/list", { route: "manifest", name: "a/tags", reference: "list" }],
    [`/v2/app/manifests/${DIGEST}`, { route: "manifest", name: "app", reference: DIGEST }],
    [`/v2/x/y/z/blobs/${DIGEST}`, { route: "blob", name: "x/y/z", digest: DIGEST }],
    [`/v2/a/blobs/uploads/blobs/${DIGEST}`, { route: "blob", name: "a/blobs/uploads", digest: DIGEST }],
    ["/v2/app/blobs/uploads/", { route: "uploadStart", name: "app" }],
    ["/v2/app/blobs/uploads", { route: "uploadStart", name: "app" }],
    ["/v2/a/blobs/blobs/uploads/", { route: "uploadStart", name: "a/blobs" }],
    ["/v2/app/blobs/uploads/0f9e-11", { route: "upload", name: "app", uuid: "0f9e-11" }],
    [`/v2/app/referrers/${DIGEST}`, { route: "referrers", name: "app", digest: DIGEST }],
    ["/v2/app", undefined],
    ["/v2/app/manifests/", undefined],
    ["/v2/app/manifests/a/b", undefined],
    ["/v3/app/tags/list", undefined],
    ["/", undefined],
  ];
  for (const [path, expected] of table) {
    test(`${path} → ${expected ? expected.route : "not the API"}`, () =>
      assert.deepEqual(matchRoute(path), expected));
  }

  // Repository names made of the API's own words, to find any path two routes could both claim.
  const component = fc.constantFrom(
    "a",
    "b0",
    "blobs",
    "uploads",
    "manifests",
    "tags",
    "list",
    "referrers",
    "v2",
  );
  const name = fc.array(component, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));
  const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);

  test("every URL the client builds is routed back to the same route and values", () => {
    fc.assert(
      fc.property(name, tag, fc.uuid(), (n, t, uuid) => {
        assert.deepEqual(matchRoute(urls.tags(n)), { route: "tags", name: n });
        assert.deepEqual(matchRoute(urls.manifest(n, t)), { route: "manifest", name: n, reference: t });
        assert.deepEqual(matchRoute(urls.manifest(n, DIGEST)), {
          route: "manifest",
          name: n,
          reference: DIGEST,
        });
        assert.deepEqual(matchRoute(urls.blob(n, DIGEST)), { route: "blob", name: n, digest: DIGEST });
        assert.deepEqual(matchRoute(urls.uploadStart(n)), { route: "uploadStart", name: n });
        assert.deepEqual(matchRoute(urls.upload(n, uuid)), { route: "upload", name: n, uuid });
        assert.deepEqual(matchRoute(urls.referrers(n, DIGEST)), {
          route: "referrers",
          name: n,
          digest: DIGEST,
        });
      }),
      { numRuns: 500 },
    );
  });
});
