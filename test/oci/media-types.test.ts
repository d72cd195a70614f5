import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  baseMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  isValidMediaType,
  layerCompression,
  MANIFEST_MEDIA_TYPES,
  MediaTypes,
} from "../../src/oci/media-types.js";

describe("media type constants", () => {
  // Spelled out from the image-spec's media-types.md and Docker's manifest v2 schema 2 document.
  const expected: Record<string, string> = {
    OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
    OCI_INDEX: "application/vnd.oci.image.index.v1+json",
    OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
    OCI_LAYER: "application/vnd.oci.image.layer.v1.tar",
    OCI_LAYER_GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
    OCI_LAYER_ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
    OCI_LAYER_NONDIST: "application/vnd.oci.image.layer.nondistributable.v1.tar",
    OCI_LAYER_NONDIST_GZIP: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    OCI_LAYER_NONDIST_ZSTD: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    OCI_EMPTY: "application/vnd.oci.empty.v1+json",
    DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
    DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
    DOCKER_CONFIG: "application/vnd.docker.container.image.v1+json",
    DOCKER_LAYER_GZIP: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    DOCKER_FOREIGN_LAYER: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    DOCKER_PLUGIN_CONFIG: "application/vnd.docker.plugin.v1+json",
    DOCKER_SCHEMA1_SIGNED: "application/vnd.docker.distribution.manifest.v1+prettyjws",
    DOCKER_SCHEMA1: "application/vnd.docker.distribution.manifest.v1+json",
  };
  for (const [key, value] of Object.entries(expected)) {
    it(key, () => assert.equal((MediaTypes as Record<string, string>)[key], value));
  }
  it("MANIFEST_MEDIA_TYPES lists exactly the four storable manifest types", () => {
    assert.deepEqual([...MANIFEST_MEDIA_TYPES].sort(), [
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
    ]);
  });
  it("every constant is a valid RFC 6838 media type", () => {
    for (const value of Object.values(MediaTypes)) assert.ok(isValidMediaType(value), value);
  });
});

describe("classification", () => {
  // [media type, index?, manifest?, layer?, compression, non-distributable?]
  const cases: [string, boolean, boolean, boolean, "none" | "gzip" | "zstd" | undefined, boolean][] = [
    [MediaTypes.OCI_INDEX, true, false, false, undefined, false],
    [MediaTypes.DOCKER_MANIFEST_LIST, true, false, false, undefined, false],
    [MediaTypes.OCI_MANIFEST, false, true, false, undefined, false],
    [MediaTypes.DOCKER_MANIFEST, false, true, false, undefined, false],
    [MediaTypes.DOCKER_SCHEMA1, false, false, false, undefined, false],
    [MediaTypes.OCI_CONFIG, false, false, false, undefined, false],
    [MediaTypes.OCI_EMPTY, false, false, false, undefined, false],
    [MediaTypes.OCI_LAYER, false, false, true, "none", false],
    [MediaTypes.OCI_LAYER_GZIP, false, false, true, "gzip", false],
    [MediaTypes.OCI_LAYER_ZSTD, false, false, true, "zstd", false],
    [MediaTypes.OCI_LAYER_NONDIST, false, false, true, "none", true],
    [MediaTypes.OCI_LAYER_NONDIST_GZIP, false, false, true, "gzip", true],
    [MediaTypes.OCI_LAYER_NONDIST_ZSTD, false, false, true, "zstd", true],
    [MediaTypes.DOCKER_LAYER_GZIP, false, false, true, "gzip", false],
    ["application/vnd.docker.image.rootfs.diff.tar", false, false, true, "none", false],
    [MediaTypes.DOCKER_FOREIGN_LAYER, false, false, true, "gzip", true],
    ["application/json", false, false, false, undefined, false],
    ["application/vnd.oci.image.layer.v1.tar+bzip2", false, false, false, undefined, false],
    ["", false, false, false, undefined, false],
  ];
  for (const [mt, index, manifest, layer, compression, nondist] of cases) {
    it(mt || "(empty)", () => {
      assert.equal(isIndexMediaType(mt), index);
      assert.equal(isManifestMediaType(mt), manifest);
      assert.equal(isLayerMediaType(mt), layer);
      assert.equal(layerCompression(mt), compression);
      assert.equal(isNonDistributableMediaType(mt), nondist);
    });
  }
  it("ignores Content-Type parameters and case", () => {
    assert.equal(
      baseMediaType(" Application/VND.oci.image.index.v1+json ; charset=utf-8"),
      MediaTypes.OCI_INDEX,
    );
    assert.equal(isIndexMediaType(`${MediaTypes.OCI_INDEX}; charset=utf-8`), true);
    assert.equal(isManifestMediaType(`${MediaTypes.DOCKER_MANIFEST};q=0.9`), true);
    assert.equal(layerCompression(`${MediaTypes.OCI_LAYER_ZSTD}; x=y`), "zstd");
  });
});

describe("isValidMediaType (RFC 6838)", () => {
  const valid = [
    "application/json",
    "text/plain",
    "application/vnd.example+type",
    "a/b",
    "x-foo/y.z!#$&^_-+",
    `a/${"b".repeat(127)}`,
  ];
  const invalid = [
    "",
    "application",
    "application/",
    "/json",
    "application/json; charset=utf-8",
    "a b/c",
    "a/b/c",
    ".a/b",
    `a/${"b".repeat(128)}`,
  ];
  for (const mt of valid) it(`accepts ${mt}`, () => assert.equal(isValidMediaType(mt), true));
  for (const mt of invalid) {
    it(`refuses ${JSON.stringify(mt.length > 30 ? `${mt.slice(0, 30)}…` : mt)}`, () =>
      assert.equal(isValidMediaType(mt), false));
  }
});
