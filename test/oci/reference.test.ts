import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Digest } from "../../src/oci/digest.js";
import { InvalidNameError, InvalidReferenceError, InvalidTagError } from "../../src/oci/errors.js";
import {
  DEFAULT_REGISTRY,
  familiarName,
  familiarString,
  formatReference,
  isValidRegistry,
  isValidRepositoryName,
  isValidTag,
  nameOnly,
  parseReference,
  type Reference,
  validateRepositoryName,
  validateTag,
  withDigest,
  withTag,
} from "../../src/oci/reference.js";

const F64 = "f".repeat(64);
const SHA256_F = `sha256:${F64}`;
const SHA512_F = `sha512:${"f".repeat(128)}`;
const IMAGE_ID = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

interface Expected {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

function plain(ref: Reference): Expected {
  const out: Expected = { registry: ref.registry, repository: ref.repository };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest.toString();
  return out;
}

function assertRefused(input: string, reason?: RegExp): void {
  assert.throws(
    () => parseReference(input),
    (err: unknown) => {
      assert.ok(err instanceof InvalidReferenceError, `expected InvalidReferenceError, got ${String(err)}`);
      assert.equal(err.code, "INVALID_REFERENCE");
      assert.equal(err.input, input);
      assert.match(err.message, /^invalid reference format/);
      if (reason) assert.match(err.message, reason);
      return true;
    },
  );
}

describe("parseReference: normalisation (distribution's ParseNormalizedNamed + TagNameOnly)", () => {
  // [input, registry, repository, tag, digest]; most cases come from distribution's
  // reference_test.go and normalize_test.go, read through Docker's normalisation.
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    ["alpine", "docker.io", "library/alpine", "latest", undefined],
    ["alpine:3.19", "docker.io", "library/alpine", "3.19", undefined],
    ["docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["docker.io/library/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["index.docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["index.docker.io/library/debian", "docker.io", "library/debian", "latest", undefined],
    ["index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", undefined],
    // Only index.docker.io is rewritten, as Docker does; registry-1 is an ordinary host.
    ["registry-1.docker.io/library/alpine", "registry-1.docker.io", "library/alpine", "latest", undefined],
    ["registry-1.docker.io/alpine", "registry-1.docker.io", "alpine", "latest", undefined],
    ["fooo/bar", "docker.io", "fooo/bar", "latest", undefined],
    ["library/ubuntu", "docker.io", "library/ubuntu", "latest", undefined],
    ["library/foo/bar", "docker.io", "library/foo/bar", "latest", undefined],
    ["store/foo/bar", "docker.io", "store/foo/bar", "latest", undefined],
    ["other/library", "docker.io", "other/library", "latest", undefined],
    ["ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", undefined],
    ["test_com", "docker.io", "library/test_com", "latest", undefined],
    ["test_com/foo", "docker.io", "test_com/foo", "latest", undefined],
    ["docker/migrator", "docker.io", "docker/migrator", "latest", undefined],
    ["test.com:tag", "docker.io", "library/test.com", "tag", undefined],
    ["test.com:5000", "docker.io", "library/test.com", "5000", undefined],
    ["test.com/repo:tag", "test.com", "repo", "tag", undefined],
    ["test:5000/repo", "test:5000", "repo", "latest", undefined],
    ["test:5000/repo:tag", "test:5000", "repo", "tag", undefined],
    [`test:5000/repo@${SHA256_F}`, "test:5000", "repo", undefined, SHA256_F],
    [`test:5000/repo:tag@${SHA256_F}`, "test:5000", "repo", "tag", SHA256_F],
    ["test-com:8080/foo", "test-com:8080", "foo", "latest", undefined],
    ["xn--n3h.com/foo", "xn--n3h.com", "foo", "latest", undefined],
    ["xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", undefined],
    ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", undefined],
    [`xn--7o8h.com/myimage:xn--7o8h.com@${SHA512_F}`, "xn--7o8h.com", "myimage", "xn--7o8h.com", SHA512_F],
    ["sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "latest", undefined],
    [
      "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
      "sub-dom1.foo.com",
      "bar/baz/quux",
      "some-long-tag",
      undefined,
    ],
    [
      "b.gcr.io/test.example.com/my-app:test.example.com",
      "b.gcr.io",
      "test.example.com/my-app",
      "test.example.com",
      undefined,
    ],
    ["foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", undefined],
    ["foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", undefined],
    ["lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", undefined],
    ["192.168.1.1", "docker.io", "library/192.168.1.1", "latest", undefined],
    ["192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", undefined],
    ["192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", undefined],
    ["192.168.1.1/repo", "192.168.1.1", "repo", "latest", undefined],
    ["192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "latest", undefined],
    ["192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", undefined],
    ["127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "latest", undefined],
    ["example.com:8000/privatebasee", "example.com:8000", "privatebasee", "latest", undefined],
    ["localhost/foo", "localhost", "foo", "latest", undefined],
    ["localhost:5000/a/b", "localhost:5000", "a/b", "latest", undefined],
    // A bare "localhost" is a Docker Hub name: Docker only treats a first *path component* as a host.
    ["localhost", "docker.io", "library/localhost", "latest", undefined],
    ["[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", undefined],
    ["[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", undefined],
    ["[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "latest", undefined],
    [`[2001:db8::1]:5000/repo:tag@${SHA256_F}`, "[2001:db8::1]:5000", "repo", "tag", SHA256_F],
    ["[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", undefined],
    ["[::1]:5000/repo", "[::1]:5000", "repo", "latest", undefined],
    [
      "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
      "[fc00:1:2:3:4:5:6:7]:5000",
      "library/debian",
      "latest",
      undefined,
    ],
    // The host keeps its case; only the path must be lowercase.
    ["MyRegistry.Example.COM:443/team/app", "MyRegistry.Example.COM:443", "team/app", "latest", undefined],
    // An uppercase first component cannot be a namespace, so Docker takes it as a host name.
    ["Docker/docker", "Docker", "docker", "latest", undefined],
    ["FOO/bar", "FOO", "bar", "latest", undefined],
    // Hex names are fine once there is a registry to disambiguate them from image IDs.
    [`docker.io/${IMAGE_ID}`, "docker.io", `library/${IMAGE_ID}`, "latest", undefined],
    [`${IMAGE_ID.slice(0, 63)}`, "docker.io", `library/${IMAGE_ID.slice(0, 63)}`, "latest", undefined],
    [
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "docker.io",
      "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "latest",
      undefined,
    ],
    ["docker-rules/docker", "docker.io", "docker-rules/docker", "latest", undefined],
    ["docker---rules/docker", "docker.io", "docker---rules/docker", "latest", undefined],
    ["dock__er/docker", "docker.io", "dock__er/docker", "latest", undefined],
    ["d/docker", "docker.io", "d/docker", "latest", undefined],
    ["jess/t", "docker.io", "jess/t", "latest", undefined],
    [
      "redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c",
      "docker.io",
      "library/redis",
      undefined,
      "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c",
    ],
    [
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
      "docker.io",
      "library/busybox",
      "latest",
      "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
    ],
    [
      `${"a/".repeat(117)}a:tag-puts-this-over-max`,
      "docker.io",
      `${"a/".repeat(117)}a`,
      "tag-puts-this-over-max",
      undefined,
    ],
    [`a:${"t".repeat(128)}`, "docker.io", "library/a", "t".repeat(128), undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    it(input.length > 70 ? `${input.slice(0, 70)}…` : input, () => {
      const expected: Expected = { registry, repository };
      if (tag !== undefined) expected.tag = tag;
      if (digest !== undefined) expected.digest = digest;
      assert.deepEqual(plain(parseReference(input)), expected);
    });
  }

  it("returns a Digest object for the digest", () => {
    const ref = parseReference(`alpine@${SHA256_F}`);
    assert.ok(ref.digest instanceof Digest);
    assert.equal(ref.digest.algorithm, "sha256");
    assert.equal(ref.tag, undefined);
  });
});

describe("parseReference: refusals", () => {
  const refused: [input: string, reason?: RegExp][] = [
    ["", /at least one component/],
    [":justtag"],
    [`@${SHA256_F}`],
    ["repo@sha256:ffffffffffffffffffffffffffffffffff", /64 hex characters/],
    [`validname@invaliddigest:${F64}`, /unsupported digest algorithm/],
    [`validname@sha384:${"f".repeat(96)}`, /unsupported digest algorithm/],
    [`validname@sha256:${F64.toUpperCase()}`, /lowercase hexadecimal/],
    ["Uppercase:tag", /repository name must be lowercase/],
    ["Alpine", /repository name must be lowercase/],
    ["docker/Docker", /repository name must be lowercase/],
    ["docker.io/docker/Docker", /repository name must be lowercase/],
    ["test:5000/Uppercase/lowercase:tag", /repository name must be lowercase/],
    ["localhost:5000/Foo", /repository name must be lowercase/],
    [`${"a/".repeat(128)}a:tag`, /must not be more than 255 characters/],
    [`example.com/${"a".repeat(244)}`, /must not be more than 255 characters/],
    ["aa/asdf$$^/aa"],
    ["https://github.com/docker/docker"],
    ["-docker"],
    ["-docker/docker"],
    ["-docker.io/docker/docker"],
    ["docker-/docker"],
    ["-docker-/docker"],
    ["docker///docker"],
    ["docker.io/docker///docker"],
    ["____/____"],
    ["_docker/_docker"],
    ["dock..er/docker"],
    ["dock_.er/docker"],
    ["dock-.er/docker"],
    ["docker/"],
    ["/docker"],
    [`${"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4)}/docker`],
    ["[fc00::1]"],
    ["[fc00::1]:5000"],
    ["[2001:db8::1]"],
    ["[2001:db8::1]:5000"],
    ["[2001:db8::1]:tag"],
    ["fc00::1:5000/debian"],
    ["[fe80::1%eth0]:5000/debian"],
    ["[fe80::1%@invalidzone]:5000/repo"],
    ["[2001:db8:3:4::192.0.2.33]:5000/debian"],
    ["localhost:port/repo"],
    ["foo_bar.com/repo", /invalid registry host/],
    ["alpine:-tag"],
    ["alpine:.tag"],
    [`alpine:${"t".repeat(129)}`],
    ["alpine:tag:tag"],
    ["alpine@"],
    ["alpine:"],
    [" alpine"],
    ["alpine "],
    ["alp ine"],
    ["alpine\n"],
    [IMAGE_ID, /cannot specify 64-byte hexadecimal strings/],
  ];
  for (const [input, reason] of refused) {
    it(`refuses ${JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input)}`, () => {
      assertRefused(input, reason);
    });
  }

  it("puts Docker's wording first", () => {
    assert.throws(() => parseReference("Alpine"), {
      name: "InvalidReferenceError",
      message: "invalid reference format: repository name must be lowercase",
    });
    assert.throws(() => parseReference("aa/asdf$$^/aa"), { message: "invalid reference format" });
  });
});

describe("formatReference, familiarName, familiarString", () => {
  // [input, canonical, familiar name, familiar string]
  const cases: [string, string, string, string][] = [
    ["alpine", "docker.io/library/alpine:latest", "alpine", "alpine:latest"],
    ["docker.io/library/redis", "docker.io/library/redis:latest", "redis", "redis:latest"],
    ["index.docker.io/fooo/bar", "docker.io/fooo/bar:latest", "fooo/bar", "fooo/bar:latest"],
    ["nonlibrary/ubuntu:x", "docker.io/nonlibrary/ubuntu:x", "nonlibrary/ubuntu", "nonlibrary/ubuntu:x"],
    ["library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar", "library/foo/bar:latest"],
    [
      "127.0.0.1:8000/private/moonbase",
      "127.0.0.1:8000/private/moonbase:latest",
      "127.0.0.1:8000/private/moonbase",
      "127.0.0.1:8000/private/moonbase:latest",
    ],
    [
      "example.com/privatebase:v1",
      "example.com/privatebase:v1",
      "example.com/privatebase",
      "example.com/privatebase:v1",
    ],
    ["Foo/bar", "Foo/bar:latest", "Foo/bar", "Foo/bar:latest"],
    [
      `localhost:5000/a/b@${SHA256_F}`,
      `localhost:5000/a/b@${SHA256_F}`,
      "localhost:5000/a/b",
      `localhost:5000/a/b@${SHA256_F}`,
    ],
    [
      `busybox:latest@${SHA256_F}`,
      `docker.io/library/busybox:latest@${SHA256_F}`,
      "busybox",
      `busybox:latest@${SHA256_F}`,
    ],
  ];
  for (const [input, canonical, name, familiar] of cases) {
    it(input.length > 60 ? `${input.slice(0, 60)}…` : input, () => {
      const ref = parseReference(input);
      assert.equal(formatReference(ref), canonical);
      // The familiar forms drop docker.io/library/, keep everything else.
      assert.equal(familiarName(ref), name);
      assert.equal(familiarString(ref), familiar);
      assert.deepEqual(plain(parseReference(familiarString(ref))), plain(ref));
      assert.deepEqual(plain(parseReference(canonical)), plain(ref));
    });
  }
  it("DEFAULT_REGISTRY is docker.io", () => {
    assert.equal(DEFAULT_REGISTRY, "docker.io");
  });
});

describe("withTag, withDigest, nameOnly", () => {
  const base = parseReference("test.com:8000/foo");
  const digest = Digest.parse(SHA256_F);
  it("replaces the tag and keeps a digest", () => {
    assert.equal(formatReference(withTag(base, "TAG5")), "test.com:8000/foo:TAG5");
    const pinned = withDigest(nameOnly(base), digest);
    assert.equal(formatReference(pinned), `test.com:8000/foo@${SHA256_F}`);
    assert.equal(formatReference(withTag(pinned, "tag")), `test.com:8000/foo:tag@${SHA256_F}`);
  });
  it("adds a digest and keeps the tag", () => {
    assert.equal(formatReference(withDigest(base, digest)), `test.com:8000/foo:latest@${SHA256_F}`);
  });
  it("refuses invalid tags", () => {
    assert.throws(() => withTag(base, "-foo"), InvalidTagError);
    assert.throws(() => withTag(base, ""), InvalidTagError);
  });
  it("does not modify its input", () => {
    withTag(base, "other");
    assert.equal(base.tag, "latest");
  });
});

describe("repository names as a registry checks them", () => {
  const valid = [
    "a",
    "library/alpine",
    "foo/bar/baz",
    "a.b/c_d/e__f/g-h/i---j",
    "0/1",
    "docker---rules/docker",
    IMAGE_ID,
    "a".repeat(255),
    `${"ab/".repeat(84)}abc`,
  ];
  const invalid: [string, RegExp][] = [
    ["", /at least one component/],
    ["A", /must be lowercase/],
    ["library/Alpine", /must be lowercase/],
    ["a".repeat(256), /more than 255/],
    [`${"ab/".repeat(85)}a`, /more than 255/],
    ["localhost:5000/a", /path components/],
    ["/a", /path components/],
    ["a/", /path components/],
    ["a//b", /path components/],
    ["-a", /path components/],
    ["a-", /path components/],
    ["_a", /path components/],
    ["a___b", /path components/],
    ["a..b", /path components/],
    ["a._b", /path components/],
    ["a b", /path components/],
    ["a/../b", /path components/],
    ["a/./b", /path components/],
    ["..", /path components/],
  ];
  for (const name of valid) {
    it(`accepts ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`, () => {
      assert.equal(isValidRepositoryName(name), true);
      assert.equal(validateRepositoryName(name), name);
    });
  }
  for (const [name, why] of invalid) {
    it(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}`, () => {
      assert.equal(isValidRepositoryName(name), false);
      assert.throws(
        () => validateRepositoryName(name),
        (err: unknown) => {
          assert.ok(err instanceof InvalidNameError);
          assert.equal(err.code, "NAME_INVALID");
          assert.equal(err.input, name);
          assert.match(err.message, why);
          return true;
        },
      );
    });
  }
});

describe("tags", () => {
  const valid = [
    "latest",
    "v1.0.0",
    "1",
    "_",
    "_private",
    "A-B_C.D",
    "t".repeat(128),
    "3.19-alpine",
    "UPPER",
  ];
  const invalid = ["", ".hidden", "-dash", "t".repeat(129), "a:b", "a/b", "a@b", "a b", "é", "a+b"];
  for (const tag of valid) {
    it(`accepts ${tag.length > 20 ? `${tag.slice(0, 20)}…(${tag.length})` : tag}`, () => {
      assert.equal(isValidTag(tag), true);
      assert.equal(validateTag(tag), tag);
    });
  }
  for (const tag of invalid) {
    it(`refuses ${JSON.stringify(tag.length > 20 ? `${tag.slice(0, 20)}…(${tag.length})` : tag)}`, () => {
      assert.equal(isValidTag(tag), false);
      assert.throws(() => validateTag(tag), { name: "InvalidTagError", code: "TAG_INVALID" });
    });
  }
});

describe("registry hosts", () => {
  for (const host of [
    "localhost",
    "localhost:5000",
    "[::1]:5000",
    "[::1]",
    "a.b.c",
    "Example.COM:443",
    "xn--n3h.com",
  ]) {
    it(`accepts ${host}`, () => assert.equal(isValidRegistry(host), true));
  }
  for (const host of ["", "-a.com", "a-.com", "a..b", "[fe80::1%eth0]", "a:b", "a_b.com", "host:"]) {
    it(`refuses ${JSON.stringify(host)}`, () => assert.equal(isValidRegistry(host), false));
  }
});

// Generators that follow distribution's grammar, so the properties cover what users can type.
const alphanumeric = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const separator = fc.constantFrom(".", "_", "__", "-", "--", "---");
const pathComponent = fc
  .tuple(alphanumeric, fc.array(fc.tuple(separator, alphanumeric), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([s, a]) => s + a).join(""));
const repository = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));
const domainComponent = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?$/);
const port = fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`);
const ipv6 = fc
  .array(fc.stringMatching(/^[0-9a-fA-F]{1,4}$/), { minLength: 2, maxLength: 8 })
  .map((groups) => `[${groups.join(":")}]`);
const registry = fc.oneof(
  fc.constant("docker.io"),
  fc.constant("localhost"),
  port.map((p) => `localhost${p}`),
  fc
    .tuple(fc.array(domainComponent, { minLength: 2, maxLength: 4 }), fc.option(port, { nil: undefined }))
    .map(([parts, p]) => parts.join(".") + (p ?? "")),
  fc.tuple(domainComponent, port).map(([d, p]) => d + p),
  fc.tuple(ipv6, fc.option(port, { nil: undefined })).map(([h, p]) => h + (p ?? "")),
);
const tag = fc.oneof(fc.stringMatching(/^\w[\w.-]{0,15}$/), fc.stringMatching(/^\w[\w.-]{127}$/));
const digest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => Digest.parse(`sha256:${h}`)),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((h) => Digest.parse(`sha512:${h}`)),
);
const normalisedReference = fc
  .record({
    registry,
    repository,
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .filter(
    (r) =>
      // Normalised references always carry a tag or a digest (TagNameOnly) ...
      (r.tag !== undefined || r.digest !== undefined) &&
      r.registry !== "index.docker.io" &&
      // ... official images on Docker Hub live under library/ ...
      (r.registry !== "docker.io" || r.repository.includes("/")) &&
      r.registry.length + 1 + r.repository.length <= 255,
  )
  .map((r) => {
    const out: { registry: string; repository: string; tag?: string; digest?: Digest } = {
      registry: r.registry,
      repository: r.repository,
    };
    if (r.tag !== undefined) out.tag = r.tag;
    if (r.digest !== undefined) out.digest = r.digest;
    return out as Reference;
  });

describe("reference properties", () => {
  it("format ∘ parse is the identity on normalised references", () => {
    fc.assert(
      fc.property(normalisedReference, (ref) => {
        const text = formatReference(ref);
        const parsed = parseReference(text);
        assert.deepEqual(plain(parsed), plain(ref));
        assert.equal(formatReference(parsed), text);
      }),
      { numRuns: 500 },
    );
  });

  it("the familiar string of a reference parses back to it (when Docker's short form is unambiguous)", () => {
    fc.assert(
      fc.property(
        // A Docker Hub namespace that looks like a host would be read as one once docker.io is dropped.
        normalisedReference.filter(
          (r) => r.registry !== "docker.io" || !/^(?:[^/]*[.:][^/]*|localhost)\//.test(r.repository),
        ),
        (ref) => {
          assert.deepEqual(plain(parseReference(familiarString(ref))), plain(ref));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("parsing is idempotent: parse(format(parse(s))) equals parse(s)", () => {
    const familiarInput = fc
      .tuple(
        fc.option(registry, { nil: undefined }),
        repository,
        fc.option(tag, { nil: undefined }),
        fc.option(digest, { nil: undefined }),
      )
      .map(
        ([reg, repo, t, d]) =>
          `${reg !== undefined ? `${reg}/` : ""}${repo}${t !== undefined ? `:${t}` : ""}${d !== undefined ? `@${d}` : ""}`,
      );
    fc.assert(
      fc.property(familiarInput, (input) => {
        let first: Reference;
        try {
          first = parseReference(input);
        } catch (err) {
          assert.ok(err instanceof InvalidReferenceError);
          return;
        }
        assert.deepEqual(plain(parseReference(formatReference(first))), plain(first));
        assert.ok(first.tag !== undefined || first.digest !== undefined);
        assert.ok(isValidRepositoryName(first.repository), first.repository);
        assert.ok(isValidRegistry(first.registry), first.registry);
      }),
      { numRuns: 500 },
    );
  });

  it("parse throws nothing but InvalidReferenceError on arbitrary strings", () => {
    const chars = fc.constantFrom(
      ..."abcAZ09._-_/:@[]%$ \n".split(""),
      "sha256:",
      F64,
      "localhost",
      "docker.io/",
    );
    const input = fc.oneof(
      fc.string(),
      fc.string({ unit: chars, maxLength: 30 }),
      fc.string({ unit: "binary" }),
    );
    fc.assert(
      fc.property(input, (s) => {
        try {
          const ref = parseReference(s);
          assert.ok(isValidRepositoryName(ref.repository));
        } catch (err) {
          assert.ok(err instanceof InvalidReferenceError, `unexpected ${String(err)}`);
          assert.match(err.message, /^invalid reference format/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
