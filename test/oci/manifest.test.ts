import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Descriptor, validateDescriptor } from "../../src/oci/descriptor.js";
import { InvalidManifestError } from "../../src/oci/errors.js";
import {
  type ImageIndex,
  type ImageManifest,
  parseImageConfig,
  parseManifest,
} from "../../src/oci/manifest.js";

const enc = (v: unknown): Uint8Array =>
  new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";

// The image-spec's own examples (manifest.md, image-index.md, manifest guidance, config.md).
const SPEC_MANIFEST = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: {
    mediaType: OCI_CONFIG,
    digest: "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    size: 7023,
  },
  layers: [
    {
      mediaType: OCI_LAYER_GZIP,
      digest: "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      size: 32654,
    },
    {
      mediaType: OCI_LAYER_GZIP,
      digest: "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
      size: 16724,
    },
    {
      mediaType: OCI_LAYER_GZIP,
      digest: "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
      size: 73109,
    },
  ],
  subject: {
    mediaType: OCI_MANIFEST,
    digest: "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    size: 7682,
  },
  annotations: { "com.example.key1": "value1", "com.example.key2": "value2" },
};

const SPEC_INDEX = {
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    {
      mediaType: OCI_MANIFEST,
      size: 7143,
      digest: "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
      platform: { architecture: "ppc64le", os: "linux" },
    },
    {
      mediaType: OCI_MANIFEST,
      size: 7682,
      digest: "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
      platform: { architecture: "amd64", os: "linux" },
    },
  ],
  annotations: { "com.example.key1": "value1", "com.example.key2": "value2" },
};

// The empty descriptor, published with its digest: sha256 of "{}".
const EMPTY_DESCRIPTOR = {
  mediaType: "application/vnd.oci.empty.v1+json",
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
  data: "e30=",
};

const SPEC_ARTIFACT = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  artifactType: "application/vnd.example+type",
  config: EMPTY_DESCRIPTOR,
  layers: [
    {
      mediaType: "application/vnd.example+type",
      digest: "sha256:e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317",
      size: 1234,
    },
  ],
};

const D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

function clone<T>(v: T): T {
  return structuredClone(v);
}

function refusal(pattern: RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidManifestError, `expected InvalidManifestError, got ${String(err)}`);
    assert.equal(err.code, "MANIFEST_INVALID");
    assert.equal(err.name, "InvalidManifestError");
    assert.match(err.message, pattern);
    return true;
  };
}

describe("validateDescriptor", () => {
  const valid: [string, unknown][] = [
    ["the spec's config descriptor", SPEC_MANIFEST.config],
    ["the empty descriptor with inline data", EMPTY_DESCRIPTOR],
    [
      "a descriptor with urls, annotations and artifactType",
      {
        mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        digest: D1,
        size: 0,
        urls: ["https://mcr.microsoft.com/v2/windows/blobs/sha256:1111"],
        annotations: { "org.opencontainers.image.title": "x" },
        artifactType: "application/vnd.example.sbom+json",
      },
    ],
    [
      "a sha512 digest",
      { mediaType: "application/octet-stream", digest: `sha512:${"a".repeat(128)}`, size: 1 },
    ],
    ["the largest safe size", { mediaType: "a/b", digest: D1, size: Number.MAX_SAFE_INTEGER }],
  ];
  for (const [what, d] of valid) {
    it(`accepts ${what}`, () => assert.deepEqual(validateDescriptor(d, "config"), d));
  }

  it("drops fields the spec does not define", () => {
    assert.deepEqual(validateDescriptor({ mediaType: "a/b", digest: D1, size: 3, extra: true }, "x"), {
      mediaType: "a/b",
      digest: D1,
      size: 3,
    });
  });

  const invalid: [string, unknown, RegExp][] = [
    ["a non-object", "sha256:abc", /^layers\[2\]: descriptor must be an object$/],
    ["null", null, /^layers\[2\]: descriptor must be an object$/],
    ["an array", [], /^layers\[2\]: descriptor must be an object$/],
    ["a missing digest", { mediaType: "a/b", size: 1 }, /^layers\[2\]\.digest: missing digest$/],
    [
      "an invalid digest",
      { mediaType: "a/b", digest: "sha256:abc", size: 1 },
      /^layers\[2\]\.digest: invalid digest$/,
    ],
    [
      "an uppercase digest",
      { mediaType: "a/b", digest: D1.toUpperCase(), size: 1 },
      /^layers\[2\]\.digest: invalid digest$/,
    ],
    ["a missing size", { mediaType: "a/b", digest: D1 }, /^layers\[2\]\.size: missing size$/],
    ["a negative size", { mediaType: "a/b", digest: D1, size: -1 }, /^layers\[2\]\.size: /],
    ["a fractional size", { mediaType: "a/b", digest: D1, size: 1.5 }, /^layers\[2\]\.size: /],
    ["a string size", { mediaType: "a/b", digest: D1, size: "12" }, /^layers\[2\]\.size: /],
    ["an unsafe size", { mediaType: "a/b", digest: D1, size: 2 ** 53 }, /^layers\[2\]\.size: /],
    ["a missing media type", { digest: D1, size: 1 }, /^layers\[2\]\.mediaType: missing media type$/],
    [
      "a malformed media type",
      { mediaType: "tar", digest: D1, size: 1 },
      /^layers\[2\]\.mediaType: invalid media type$/,
    ],
    [
      "a media type with parameters",
      { mediaType: "a/b; charset=utf-8", digest: D1, size: 1 },
      /^layers\[2\]\.mediaType: invalid media type$/,
    ],
    ["non-string urls", { mediaType: "a/b", digest: D1, size: 1, urls: [1] }, /^layers\[2\]\.urls: /],
    ["relative urls", { mediaType: "a/b", digest: D1, size: 1, urls: ["/blob"] }, /^layers\[2\]\.urls: /],
    [
      "non-string annotations",
      { mediaType: "a/b", digest: D1, size: 1, annotations: { a: 1 } },
      /^layers\[2\]\.annotations\.a: /,
    ],
    [
      "a platform without os",
      { mediaType: "a/b", digest: D1, size: 1, platform: { architecture: "amd64" } },
      /^layers\[2\]\.platform: os must be a non-empty string$/,
    ],
    [
      "a platform with non-string os.features",
      {
        mediaType: "a/b",
        digest: D1,
        size: 1,
        platform: { os: "linux", architecture: "amd64", "os.features": [1] },
      },
      /^layers\[2\]\.platform: os\.features/,
    ],
    [
      "a malformed artifactType",
      { mediaType: "a/b", digest: D1, size: 1, artifactType: "sbom" },
      /^layers\[2\]\.artifactType: /,
    ],
    ["data that is not base64", { ...EMPTY_DESCRIPTOR, data: "e30" }, /^layers\[2\]\.data: must be base64$/],
    [
      "data of the wrong size",
      { ...EMPTY_DESCRIPTOR, size: 3 },
      /^layers\[2\]\.data: holds 2 bytes but size is 3$/,
    ],
    [
      "data that does not match the digest",
      { ...EMPTY_DESCRIPTOR, data: "W10=" },
      /^layers\[2\]\.data: does not match digest$/,
    ],
  ];
  for (const [what, d, pattern] of invalid) {
    it(`refuses ${what}`, () => assert.throws(() => validateDescriptor(d, "layers[2]"), refusal(pattern)));
  }
});

describe("parseManifest: the image-spec examples", () => {
  it("an image manifest with a subject", () => {
    const parsed = parseManifest(enc(SPEC_MANIFEST));
    assert.equal(parsed.kind, "manifest");
    assert.equal(parsed.mediaType, OCI_MANIFEST);
    assert.deepEqual(parsed.value, SPEC_MANIFEST);
    assert.deepEqual(parsed.references, [SPEC_MANIFEST.config, ...SPEC_MANIFEST.layers]);
    assert.deepEqual(parsed.subject, SPEC_MANIFEST.subject);
    assert.deepEqual(parsed.annotations, SPEC_MANIFEST.annotations);
    // distribution-spec: without artifactType, a referrer is listed under its config's media type.
    assert.equal(parsed.artifactType, OCI_CONFIG);
  });

  it("an image index", () => {
    const parsed = parseManifest(enc(SPEC_INDEX));
    assert.equal(parsed.kind, "index");
    assert.equal(parsed.mediaType, OCI_INDEX);
    assert.deepEqual(parsed.value, SPEC_INDEX);
    assert.deepEqual(parsed.references, SPEC_INDEX.manifests);
    assert.equal(parsed.subject, undefined);
    assert.equal(parsed.artifactType, undefined);
    assert.deepEqual(parsed.annotations, SPEC_INDEX.annotations);
  });

  it("an artifact with the empty config", () => {
    const parsed = parseManifest(enc(SPEC_ARTIFACT));
    assert.equal(parsed.kind, "manifest");
    assert.equal(parsed.artifactType, "application/vnd.example+type");
    assert.deepEqual(parsed.references, [EMPTY_DESCRIPTOR, ...SPEC_ARTIFACT.layers]);
  });

  it("an artifact typed by its config alone", () => {
    const m = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.nhl.peanut.butter.bagel", digest: D1, size: 10 },
      layers: [],
    };
    const parsed = parseManifest(enc(m));
    assert.equal(parsed.artifactType, "application/vnd.nhl.peanut.butter.bagel");
    assert.deepEqual(parsed.references, [m.config]);
    assert.deepEqual((parsed.value as ImageManifest).layers, []);
  });

  it("an index with artifactType and subject", () => {
    const idx = {
      ...clone(SPEC_INDEX),
      artifactType: "application/vnd.example.sbom",
      subject: SPEC_MANIFEST.subject,
    };
    const parsed = parseManifest(enc(idx));
    assert.equal(parsed.artifactType, "application/vnd.example.sbom");
    assert.deepEqual(parsed.subject, SPEC_MANIFEST.subject);
  });
});

describe("parseManifest: Docker manifests", () => {
  const windows = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: 1000, digest: D1 },
    layers: [
      {
        mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        size: 5000,
        digest: D2,
        urls: ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:2222"],
      },
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 300, digest: D1 },
    ],
  };

  it("leaves foreign layers out of the blobs that must exist", () => {
    const parsed = parseManifest(enc(windows), DOCKER_MANIFEST);
    assert.equal(parsed.mediaType, DOCKER_MANIFEST);
    assert.equal(parsed.kind, "manifest");
    assert.deepEqual(parsed.references, [windows.config, windows.layers[1]]);
    assert.equal(parsed.artifactType, DOCKER_CONFIG);
  });

  it("keeps a layer whose urls list is empty", () => {
    const m = clone(windows);
    m.layers[0]!.urls = [];
    assert.equal(parseManifest(enc(m)).references.length, 3);
  });

  it("a manifest list", () => {
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          size: 7143,
          digest: D1,
          platform: { architecture: "arm", os: "linux", variant: "v7" },
        },
      ],
    };
    const parsed = parseManifest(enc(list), `${DOCKER_LIST}; charset=utf-8`);
    assert.equal(parsed.kind, "index");
    assert.equal(parsed.mediaType, DOCKER_LIST);
    assert.deepEqual((parsed.value as ImageIndex).manifests, list.manifests);
  });
});

describe("parseManifest: the effective media type", () => {
  const { mediaType: _m, ...bare } = SPEC_MANIFEST;
  const { mediaType: _i, ...bareIndex } = SPEC_INDEX;
  // [what, body, content type, expected media type]
  const cases: [string, object, string | undefined, string][] = [
    ["the body's mediaType", SPEC_MANIFEST, undefined, OCI_MANIFEST],
    ["the body's mediaType, agreeing with the Content-Type", SPEC_MANIFEST, OCI_MANIFEST, OCI_MANIFEST],
    [
      "the body's, when the Content-Type has parameters",
      SPEC_MANIFEST,
      `${OCI_MANIFEST}; charset=utf-8`,
      OCI_MANIFEST,
    ],
    ["the body's, when the Content-Type is plain JSON", SPEC_MANIFEST, "application/json", OCI_MANIFEST],
    ["the Content-Type, when the body has none", bare, OCI_MANIFEST, OCI_MANIFEST],
    ["the Content-Type, Docker's", bare, DOCKER_MANIFEST, DOCKER_MANIFEST],
    ["the Content-Type without its parameters", bare, ` ${OCI_MANIFEST} ; charset=utf-8`, OCI_MANIFEST],
    ["inferred: config and layers make an image manifest", bare, undefined, OCI_MANIFEST],
    ["inferred, when the Content-Type is plain JSON", bare, "application/json", OCI_MANIFEST],
    ["inferred: manifests make an index", bareIndex, undefined, OCI_INDEX],
    ["the Content-Type, for an index", bareIndex, DOCKER_LIST, DOCKER_LIST],
  ];
  for (const [what, body, contentType, expected] of cases) {
    it(what, () => assert.equal(parseManifest(enc(body), contentType).mediaType, expected));
  }

  it("does not add a mediaType to a value that had none", () => {
    assert.equal((parseManifest(enc(bare), OCI_MANIFEST).value as ImageManifest).mediaType, undefined);
  });
});

describe("parseManifest: refusals", () => {
  const withLayers = (layers: unknown): object => ({ ...clone(SPEC_MANIFEST), layers });
  // [what, body (object, or raw text), content type, message]
  const cases: [string, unknown, string | undefined, RegExp][] = [
    ["malformed JSON", "{", undefined, /^manifest is not valid JSON$/],
    ["an empty body", "", undefined, /^manifest is not valid JSON$/],
    ["JSON that is not an object", "[]", undefined, /^manifest must be a JSON object$/],
    ["null", "null", undefined, /^manifest must be a JSON object$/],
    [
      "a body disagreeing with the Content-Type",
      SPEC_MANIFEST,
      OCI_INDEX,
      /^if present, mediaType in manifest should be 'application\/vnd\.oci\.image\.index\.v1\+json' not 'application\/vnd\.oci\.image\.manifest\.v1\+json'$/,
    ],
    ["an OCI body sent as Docker", SPEC_MANIFEST, DOCKER_MANIFEST, /should be/],
    [
      "a non-string mediaType",
      { ...SPEC_MANIFEST, mediaType: 2 },
      undefined,
      /^mediaType: invalid media type$/,
    ],
    [
      "schema1 by media type",
      { schemaVersion: 1, mediaType: "application/vnd.docker.distribution.manifest.v1+json" },
      undefined,
      /schema1 manifests are not supported/,
    ],
    [
      "schema1 by Content-Type",
      { schemaVersion: 2, layers: [] },
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
      /schema1 manifests are not supported/,
    ],
    [
      "schema1 by version",
      { schemaVersion: 1, name: "library/alpine", tag: "latest", fsLayers: [] },
      undefined,
      /schema1 manifests are not supported/,
    ],
    [
      "a missing schemaVersion",
      { ...SPEC_MANIFEST, schemaVersion: undefined },
      undefined,
      /^schemaVersion must be 2$/,
    ],
    ["schemaVersion 3", { ...SPEC_MANIFEST, schemaVersion: 3 }, undefined, /^schemaVersion must be 2$/],
    [
      "schemaVersion as a string",
      { ...SPEC_MANIFEST, schemaVersion: "2" },
      undefined,
      /^schemaVersion must be 2$/,
    ],
    [
      "an unknown media type",
      { ...SPEC_MANIFEST, mediaType: "application/vnd.oci.artifact.manifest.v1+json" },
      undefined,
      /^unsupported manifest media type/,
    ],
    [
      "an unknown Content-Type",
      { schemaVersion: 2, layers: [] },
      "text/plain",
      /^unsupported manifest media type "text\/plain"$/,
    ],
    ["a body of unknown shape", { schemaVersion: 2 }, undefined, /cannot tell/],
    // CVE-2021-41190: a document must not be readable as both a manifest and an index.
    [
      "a manifest with manifests",
      { ...SPEC_MANIFEST, manifests: [] },
      undefined,
      /must not have a 'manifests' field/,
    ],
    [
      "an index with config",
      { ...SPEC_INDEX, config: SPEC_MANIFEST.config },
      undefined,
      /must not have a 'config' field/,
    ],
    ["an index with layers", { ...SPEC_INDEX, layers: [] }, undefined, /must not have a 'layers' field/],
    ["a manifest without config", { ...SPEC_MANIFEST, config: undefined }, undefined, /^config: missing$/],
    ["a manifest without layers", { ...SPEC_MANIFEST, layers: undefined }, undefined, /^layers: missing$/],
    ["layers that are not an array", withLayers({}), undefined, /^layers: must be an array$/],
    [
      "a bad layer digest",
      withLayers([
        SPEC_MANIFEST.layers[0],
        SPEC_MANIFEST.layers[1],
        { ...SPEC_MANIFEST.layers[2], digest: "sha256:xyz" },
      ]),
      undefined,
      /^layers\[2\]\.digest: invalid digest$/,
    ],
    [
      "a bad config size",
      { ...SPEC_MANIFEST, config: { ...SPEC_MANIFEST.config, size: -5 } },
      undefined,
      /^config\.size: /,
    ],
    [
      "a bad subject",
      { ...SPEC_MANIFEST, subject: { mediaType: OCI_MANIFEST, size: 1 } },
      undefined,
      /^subject\.digest: /,
    ],
    [
      "non-string annotations",
      { ...SPEC_MANIFEST, annotations: { a: true } },
      undefined,
      /^annotations\.a: /,
    ],
    [
      "annotations that are not an object",
      { ...SPEC_MANIFEST, annotations: ["a"] },
      undefined,
      /^annotations: /,
    ],
    [
      "a malformed artifactType",
      { ...SPEC_MANIFEST, artifactType: "bagel" },
      undefined,
      /^artifactType: invalid media type$/,
    ],
    [
      "an index without manifests",
      { ...SPEC_INDEX, manifests: undefined },
      OCI_INDEX,
      /^manifests: missing$/,
    ],
    [
      "manifests that are not an array",
      { ...SPEC_INDEX, manifests: "x" },
      undefined,
      /^manifests: must be an array$/,
    ],
    [
      "a platform without architecture",
      { ...SPEC_INDEX, manifests: [{ ...SPEC_INDEX.manifests[0], platform: { os: "linux" } }] },
      undefined,
      /^manifests\[0\]\.platform: architecture must be a non-empty string$/,
    ],
    [
      "a platform whose os is not a string",
      {
        ...SPEC_INDEX,
        manifests: [
          SPEC_INDEX.manifests[0],
          { ...SPEC_INDEX.manifests[1], platform: { os: 1, architecture: "amd64" } },
        ],
      },
      undefined,
      /^manifests\[1\]\.platform: os must be a non-empty string$/,
    ],
  ];
  for (const [what, body, contentType, pattern] of cases) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseManifest(enc(body), contentType), refusal(pattern));
    });
  }

  it("refuses bytes that are not UTF-8", () => {
    assert.throws(
      () => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d])),
      refusal(/^manifest is not valid JSON$/),
    );
  });
});

const SPEC_CONFIG = {
  created: "2015-10-31T22:22:56.015925234Z",
  author: "Alyssa P. Hacker <alyspdev@example.com>",
  architecture: "amd64",
  os: "linux",
  config: {
    User: "alice",
    ExposedPorts: { "8080/tcp": {} },
    Env: [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "FOO=oci_is_a",
      "BAR=well_written_spec",
    ],
    Entrypoint: ["/bin/my-app-binary"],
    Cmd: ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
    Volumes: { "/var/job-result-data": {}, "/var/log/my-app-logs": {} },
    WorkingDir: "/home/alice",
    Labels: {
      "com.example.project.git.url": "https://example.com/project.git",
      "com.example.project.git.commit": "45a939b2999782a3f005621a8d0f29aa387e1d6b",
    },
  },
  rootfs: {
    diff_ids: [
      "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
      "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
    ],
    type: "layers",
  },
  history: [
    {
      created: "2015-10-31T22:22:54.690851953Z",
      created_by:
        "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /",
    },
    {
      created: "2015-10-31T22:22:55.613815829Z",
      created_by: '/bin/sh -c #(nop) CMD ["sh"]',
      empty_layer: true,
    },
  ],
};

describe("parseImageConfig", () => {
  it("reads the image-spec example", () => {
    const config = parseImageConfig(enc(SPEC_CONFIG));
    assert.deepEqual(config, SPEC_CONFIG);
    assert.equal(config.rootfs.diff_ids.length, 2);
    assert.equal(config.history?.[1]?.empty_layer, true);
  });

  it("keeps fields it does not model, and accepts Docker's nulls", () => {
    const docker = {
      architecture: "arm64",
      variant: "v8",
      os: "linux",
      docker_version: "24.0.7",
      container_config: { Hostname: "" },
      config: { Env: null, Cmd: null, Entrypoint: null, Volumes: null, Labels: null, OnBuild: null },
      rootfs: { type: "layers", diff_ids: [] },
    };
    assert.deepEqual(parseImageConfig(enc(docker)), docker);
  });

  const base = (): Record<string, unknown> => clone(SPEC_CONFIG) as unknown as Record<string, unknown>;
  const cases: [string, () => unknown, RegExp][] = [
    ["malformed JSON", () => "{", /^image config is not valid JSON$/],
    ["a missing architecture", () => ({ ...base(), architecture: undefined }), /architecture/],
    ["a non-string os", () => ({ ...base(), os: 7 }), /image config os: /],
    ["a missing rootfs", () => ({ ...base(), rootfs: undefined }), /rootfs: missing/],
    [
      "a rootfs of another type",
      () => ({ ...base(), rootfs: { type: "tree", diff_ids: [] } }),
      /rootfs\.type/,
    ],
    [
      "diff_ids that are not an array",
      () => ({ ...base(), rootfs: { type: "layers" } }),
      /rootfs\.diff_ids: must be an array/,
    ],
    [
      "a diff_id that is not a digest",
      () => ({
        ...base(),
        rootfs: { type: "layers", diff_ids: [SPEC_CONFIG.rootfs.diff_ids[0], "sha256:nope"] },
      }),
      /rootfs\.diff_ids\[1\]: invalid digest/,
    ],
    ["Env that is not a list of strings", () => ({ ...base(), config: { Env: "A=b" } }), /config\.Env/],
    ["non-string labels", () => ({ ...base(), config: { Labels: { a: 1 } } }), /config\.Labels\.a/],
    ["history that is not an array", () => ({ ...base(), history: {} }), /history: must be an array/],
    [
      "a non-boolean empty_layer",
      () => ({ ...base(), history: [{ empty_layer: "yes" }] }),
      /history\[0\]\.empty_layer/,
    ],
  ];
  for (const [what, body, pattern] of cases) {
    it(`refuses ${what}`, () => assert.throws(() => parseImageConfig(enc(body())), refusal(pattern)));
  }
});

// Type-level check that Descriptor is re-exported where other modules import it from.
const _typecheck: Descriptor | undefined = undefined;
void _typecheck;
