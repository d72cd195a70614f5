import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findBaseImage } from "../../src/scout/base-image.js";
import { parseApkInstalled } from "../../src/scout/catalog/apk.js";
import { parseDebianCopyright, parseDpkgStatus } from "../../src/scout/catalog/dpkg.js";
import { parseModInfo } from "../../src/scout/catalog/go-buildinfo.js";
import { parsePackageJson, parsePackageLock } from "../../src/scout/catalog/node.js";
import { parseOsRelease } from "../../src/scout/catalog/os-release.js";
import { parsePythonMetadata } from "../../src/scout/catalog/python.js";
import { parseRpmHeader } from "../../src/scout/catalog/rpm.js";
import { DEFAULT_LIMITS, planFor } from "../../src/scout/layer-analyzer.js";
import { rpmHeader } from "./fixture-images.js";

const names = (list: { name: string; version: string }[]) => list.map((p) => `${p.name}@${p.version}`);

describe("package sources", () => {
  it("dpkg: continuation lines, Source with and without a version, half-installed and config-files left out", () => {
    const status = [
      "Package: a\nStatus: install ok installed\nVersion: 1.0-1\nDescription: first\n a longer\n description\n",
      "Package: b\nStatus: install ok half-installed\nVersion: 2.0\n",
      "Package: c\nStatus: deinstall ok config-files\nVersion: 3.0\n",
      "Package: d\nStatus: install ok installed\nSource: dsrc\nVersion: 4.0+b1\n",
      "Package: e\nStatus: install ok installed\nSource: esrc (5.0-1)\nVersion: 1:5.0-1+b2\nArchitecture: arm64\n",
    ].join("\n");
    const p = parseDpkgStatus(status, "/var/lib/dpkg/status");
    assert.deepEqual(names(p), ["a@1.0-1", "d@4.0+b1", "e@1:5.0-1+b2"]);
    assert.deepEqual(
      p.map((x) => `${x.source} ${x.sourceVersion}`),
      ["a 1.0-1", "dsrc 4.0+b1", "esrc 5.0-1"],
    );
    assert.equal(p[2]!.arch, "arm64");
  });

  it("Debian copyright files: DEP-5 License fields once each, nothing from free-form files", () => {
    assert.deepEqual(
      parseDebianCopyright(
        "Files: *\nLicense: GPL-2+\n\nFiles: debian/*\nLicense: GPL-2+\n\nLicense: GPL-2+\n text\nLicense: MIT\n",
      ),
      ["GPL-2+", "MIT"],
    );
    assert.deepEqual(
      parseDebianCopyright("This package was debianized by someone.\nIt is licensed under the GPL.\n"),
      [],
    );
  });

  it("apk: the first value of a key counts, packages without a version are left out", () => {
    const p = parseApkInstalled(
      "P:a\nV:1.0-r0\no:asrc\nL:MIT\n\nP:b\n\nP:c\nV:2-r1\nA:aarch64\n",
      "/lib/apk/db/installed",
    );
    assert.deepEqual(names(p), ["a@1.0-r0", "c@2-r1"]);
    assert.equal(p[0]!.source, "asrc");
    assert.equal(p[1]!.source, "c");
  });

  it("os-release: quotes and escapes", () => {
    assert.deepEqual(
      parseOsRelease('ID="ubuntu"\nVERSION_ID="22.04"\nID_LIKE=debian\nPRETTY_NAME="Ubuntu \\"Jammy\\""\n'),
      {
        id: "ubuntu",
        versionId: "22.04",
        codename: undefined,
        prettyName: 'Ubuntu "Jammy"',
        idLike: ["debian"],
      },
    );
    assert.equal(parseOsRelease("NAME=nothing\n"), undefined);
  });

  it("Python metadata: License-Expression first, else License, else the classifiers", () => {
    const meta = (h: string) =>
      parsePythonMetadata(`Metadata-Version: 2.4\nName: x\nVersion: 1\n${h}\nbody`, "/m")[0]!.licenses;
    assert.deepEqual(meta("License-Expression: MIT OR Apache-2.0\nLicense: ignored\n"), [
      "MIT OR Apache-2.0",
    ]);
    assert.deepEqual(meta("License: BSD\n"), ["BSD"]);
    assert.deepEqual(meta("License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n"), [
      "MIT License",
    ]);
    assert.deepEqual(parsePythonMetadata("Metadata-Version: 2.1\nName: nover\n\n", "/m"), []);
  });

  it("npm: licence objects and arrays, lock file v1 nesting, links and the root project left out", () => {
    assert.deepEqual(
      parsePackageJson('{"name":"x","version":"1.0.0","license":{"type":"ISC"}}', "/p")[0]!.licenses,
      ["ISC"],
    );
    assert.deepEqual(
      parsePackageJson('{"name":"y","version":"1.0.0","licenses":[{"type":"MIT"},"BSD"]}', "/p")[0]!.licenses,
      ["MIT", "BSD"],
    );
    const v1 = parsePackageLock(
      JSON.stringify({
        lockfileVersion: 1,
        dependencies: {
          a: { version: "1.0.0", dependencies: { b: { version: "2.0.0" } } },
          c: { version: "file:../c" },
        },
      }),
      "/l",
    );
    assert.deepEqual(names(v1), ["a@1.0.0", "b@2.0.0"]);
    const v3 = parsePackageLock(
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          "": { name: "app", version: "1.0.0" },
          "node_modules/@s/p": { version: "3.0.0" },
          "node_modules/linked": { resolved: "../x", link: true },
          "node_modules/a/node_modules/a": { version: "0.1.0" },
        },
      }),
      "/l",
    );
    assert.deepEqual(names(v3), ["@s/p@3.0.0", "a@0.1.0"]);
  });

  it("Go module info: a replacement by another module counts as that module, by a directory as the local code", () => {
    const p = parseModInfo(
      "go1.21.5",
      "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\th1:x\ndep\tgithub.com/a/b\tv1.0.0\th1:y\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\ndep\texample.com/local\tv0.0.0\n=>\t../local\t\t\nbuild\t-compiler=gc\n",
      "/app",
    );
    assert.deepEqual(names(p), [
      "example.com/app@(devel)",
      "golang.org/x/net@v0.17.0",
      "github.com/fork/b@v1.0.1",
      "example.com/local@(devel)",
      "stdlib@v1.21.5",
    ]);
  });

  it("rpm header blobs: entries pointing outside the data are refused", () => {
    const good = rpmHeader([[1000, "string", "bash"]]);
    assert.equal(parseRpmHeader(good).get(1000), "bash");
    const lying = Buffer.from(good);
    lying.writeInt32BE(10_000, 8 + 8); // the entry's offset, far past the data
    assert.throws(() => parseRpmHeader(lying), /outside/);
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffff, 0); // index entries beyond the blob
    assert.throws(() => parseRpmHeader(huge), /exceed/);
  });

  it("which files of a layer are looked at", () => {
    const plan = (path: string, mode = 0o644, size = 100) => planFor(path, mode, size, DEFAULT_LIMITS)?.how;
    assert.equal(plan("var/lib/dpkg/status"), "buffer");
    assert.equal(plan("var/lib/dpkg/status.d/base.md5sums"), undefined);
    assert.equal(plan("usr/lib/node_modules/npm/node_modules/abbrev/package.json"), "buffer");
    assert.equal(plan("usr/lib/node_modules/npm/node_modules/abbrev/lib/package.json"), undefined);
    assert.equal(plan("srv/app/node_modules/x/package-lock.json"), undefined);
    assert.equal(plan("var/lib/rpm/Packages"), "error");
    assert.equal(plan("opt/app.WAR"), "spool");
    assert.equal(plan("usr/bin/tool", 0o755), "elf");
    assert.equal(plan("usr/bin/tiny", 0o755, 10), undefined);
    assert.equal(plan("usr/lib/libz.so.1", 0o644), undefined);
  });
});

describe("base image", () => {
  it("the other image whose layers are the longest proper prefix", () => {
    const c = (imageId: string, diffIds: string[], names: string[] = []) => ({ imageId, diffIds, names });
    const mine = ["l1", "l2", "l3"];
    const found = findBaseImage(
      mine,
      [
        c("self", mine),
        c("a", ["l1"], ["a:1"]),
        c("b", ["l1", "l2"], ["b:1"]),
        c("x", ["l1", "zz"]),
        c("same", mine),
      ],
      "self",
    );
    assert.equal(found?.imageId, "b");
    assert.equal(findBaseImage(["l9"], [c("a", ["l1"])]), undefined);
  });
});
