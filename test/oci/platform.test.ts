import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Descriptor } from "../../src/oci/descriptor.js";
import { InvalidPlatformError } from "../../src/oci/errors.js";
import type { ImageIndex } from "../../src/oci/manifest.js";
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  type Platform,
  parsePlatform,
  platformMatches,
  selectManifest,
} from "../../src/oci/platform.js";

describe("parsePlatform / formatPlatform", () => {
  const valid: [string, Platform, string][] = [
    ["linux/amd64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }, "linux/arm64/v8"],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }, "linux/arm/v7"],
    ["windows/amd64", { os: "windows", architecture: "amd64" }, "windows/amd64"],
    ["Linux/AMD64", { os: "linux", architecture: "amd64" }, "linux/amd64"],
    ["linux/x86_64", { os: "linux", architecture: "x86_64" }, "linux/x86_64"],
    ["darwin/arm64", { os: "darwin", architecture: "arm64" }, "darwin/arm64"],
    ["linux/ppc64le", { os: "linux", architecture: "ppc64le" }, "linux/ppc64le"],
  ];
  for (const [input, platform, formatted] of valid) {
    it(`parses ${input}`, () => {
      assert.deepEqual(parsePlatform(input), platform);
      assert.equal(formatPlatform(parsePlatform(input)), formatted);
    });
  }
  const invalid = [
    "",
    "linux",
    "linux/",
    "/amd64",
    "linux//v7",
    "linux/arm/v7/extra",
    "linux/amd 64",
    "linux/amd64/",
    "linux/*",
  ];
  for (const input of invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parsePlatform(input),
        (err: unknown) =>
          err instanceof InvalidPlatformError && err.code === "PLATFORM_INVALID" && err.input === input,
      );
    });
  }
});

describe("normalizePlatform (containerd's rules)", () => {
  const cases: [string, string][] = [
    ["linux/x86_64", "linux/amd64"],
    ["linux/x86-64", "linux/amd64"],
    ["linux/amd64", "linux/amd64"],
    ["linux/amd64/v1", "linux/amd64"],
    ["linux/amd64/v3", "linux/amd64/v3"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/arm64/8", "linux/arm64"],
    ["linux/arm64/v9", "linux/arm64/v9"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/7", "linux/arm/v7"],
    ["linux/arm/6", "linux/arm/v6"],
    ["linux/arm/v5", "linux/arm/v5"],
    ["linux/i386", "linux/386"],
    ["macos/arm64", "darwin/arm64"],
    ["windows/amd64", "windows/amd64"],
    ["linux/s390x", "linux/s390x"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () =>
      assert.equal(formatPlatform(normalizePlatform(parsePlatform(input))), expected));
  }
  it("keeps os.version and os.features, and does not modify its input", () => {
    const input: Platform = {
      os: "Windows",
      architecture: "X86_64",
      "os.version": "10.0.17763.1457",
      "os.features": ["win32k"],
    };
    const out = normalizePlatform(input);
    assert.deepEqual(out, {
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.17763.1457",
      "os.features": ["win32k"],
    });
    assert.equal(input.architecture, "X86_64");
  });
});

describe("platformMatches", () => {
  // [want, have, matches]: Docker's rule, containerd's platforms.Only as moby's pull applies it.
  const cases: [string, string, boolean][] = [
    ["linux/amd64", "linux/amd64", true],
    ["linux/amd64", "linux/x86_64", true],
    ["linux/x86_64", "linux/amd64", true],
    // A v1 host cannot run v3 code; a v3 host runs v2 and v1 code, and 386 code.
    ["linux/amd64", "linux/amd64/v3", false],
    ["linux/amd64/v3", "linux/amd64", true],
    ["linux/amd64/v3", "linux/amd64/v2", true],
    ["linux/amd64/v2", "linux/amd64/v3", false],
    ["linux/amd64/v3", "linux/amd64/v3", true],
    ["linux/amd64", "linux/386", true],
    ["linux/386", "linux/amd64", false],
    ["linux/amd64", "linux/arm64", false],
    ["linux/amd64", "windows/amd64", false],
    // arm64 and arm64/v8 are one platform.
    ["linux/arm64", "linux/arm64/v8", true],
    ["linux/arm64/v8", "linux/arm64", true],
    ["linux/arm64/v8", "linux/aarch64", true],
    ["linux/arm64/v8", "linux/arm64/v9", false],
    ["linux/arm64", "linux/arm64/v9", false],
    // arm64 runs 32-bit arm code.
    ["linux/arm64", "linux/arm/v7", true],
    ["linux/arm64", "linux/arm/v5", true],
    // 32-bit arm without a variant means v7, which runs v6 and v5 code.
    ["linux/arm", "linux/arm/v7", true],
    ["linux/arm", "linux/arm", true],
    ["linux/arm", "linux/arm/v6", true],
    ["linux/arm/v6", "linux/arm/v7", false],
    ["linux/arm/v6", "linux/armel", true],
    ["linux/arm/v7", "linux/armhf", true],
    ["linux/arm/v7", "linux/arm/v6", true],
    ["linux/arm/v5", "linux/arm/v6", false],
    ["darwin/arm64", "macos/arm64", true],
    ["linux/386", "linux/i386", true],
  ];
  for (const [want, have, matches] of cases) {
    it(`${want} ${matches ? "accepts" : "refuses"} ${have}`, () => {
      assert.equal(platformMatches(parsePlatform(want), parsePlatform(have)), matches);
    });
  }
});

function descriptor(n: number, platform?: Platform): Descriptor {
  const d: Descriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 100 + n,
  };
  if (platform) d.platform = platform;
  return d;
}

describe("selectManifest", () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      descriptor(1, { os: "linux", architecture: "amd64", variant: "v3" }),
      descriptor(2, { os: "linux", architecture: "amd64" }),
      descriptor(3, { os: "linux", architecture: "arm", variant: "v6" }),
      descriptor(4, { os: "linux", architecture: "arm", variant: "v7" }),
      descriptor(5, { os: "linux", architecture: "arm64", variant: "v8" }),
      descriptor(6, { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1457" }),
      descriptor(7, { os: "unknown", architecture: "unknown" }),
      descriptor(8),
    ],
  };
  const cases: [string, number | undefined][] = [
    ["linux/amd64", 2],
    ["linux/x86_64", 2],
    ["linux/amd64/v3", 1],
    ["linux/arm", 4],
    ["linux/arm/v7", 4],
    ["linux/arm/v6", 3],
    ["linux/arm/v5", undefined],
    ["linux/arm64", 5],
    ["linux/aarch64", 5],
    ["linux/arm64/v8", 5],
    ["windows/amd64", 6],
    ["linux/s390x", undefined],
  ];
  for (const [want, n] of cases) {
    it(`${want} -> ${n === undefined ? "nothing" : `manifests[${n - 1}]`}`, () => {
      const chosen = selectManifest(index, parsePlatform(want));
      assert.equal(chosen, n === undefined ? undefined : index.manifests[n - 1]);
    });
  }
  it("takes no newer variant than asked for: amd64 does not run amd64/v2", () => {
    const only = {
      schemaVersion: 2 as const,
      manifests: [descriptor(1, { os: "linux", architecture: "amd64", variant: "v2" })],
    };
    assert.equal(selectManifest(only, { os: "linux", architecture: "amd64" }), undefined);
  });
  it("falls back to the closest older variant, whatever the index order", () => {
    const older = {
      schemaVersion: 2 as const,
      manifests: [
        descriptor(1, { os: "linux", architecture: "arm", variant: "v5" }),
        descriptor(2, { os: "linux", architecture: "arm", variant: "v6" }),
        descriptor(3, { os: "linux", architecture: "amd64" }),
        descriptor(4, { os: "linux", architecture: "amd64", variant: "v2" }),
      ],
    };
    assert.equal(selectManifest(older, parsePlatform("linux/arm/v7")), older.manifests[1]);
    assert.equal(selectManifest(older, parsePlatform("linux/arm64")), older.manifests[1]);
    assert.equal(selectManifest(older, parsePlatform("linux/amd64/v3")), older.manifests[3]);
  });
  it("prefers the first of equally good matches", () => {
    const twins = {
      schemaVersion: 2 as const,
      manifests: [
        descriptor(1, { os: "linux", architecture: "arm64" }),
        descriptor(2, { os: "linux", architecture: "arm64", variant: "v8" }),
      ],
    };
    assert.equal(selectManifest(twins, parsePlatform("linux/arm64/v8")), twins.manifests[0]);
  });
});

describe("hostPlatform", () => {
  it("names this process's platform in OCI terms", () => {
    const host = hostPlatform();
    const os = ({ win32: "windows" } as Record<string, string>)[process.platform] ?? process.platform;
    assert.equal(host.os, os);
    const arch = ({ x64: "amd64", ia32: "386" } as Record<string, string>)[process.arch] ?? process.arch;
    if (process.arch !== "ppc64") assert.equal(host.architecture, arch);
    assert.doesNotThrow(() => parsePlatform(formatPlatform(host)));
  });
});
