import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OciLayoutSource } from "../../src/archive/oci-layout.js";
import { LayerCache } from "../../src/scout/cache.js";
import { inventoryImage } from "../../src/scout/inventory.js";
import { analyzeTar } from "../../src/scout/layer-analyzer.js";
import type { Inventory } from "../../src/scout/model.js";
import { makeTar } from "../layer/fixtures.js";
import { goVersion, writeFixtures } from "./fixture-images.js";

const work = mkdtempSync(join(tmpdir(), "scout-inventory-"));
const layout = join(work, "oci");
after(() => rmSync(work, { recursive: true, force: true }));

function names(inv: Inventory, type?: string): string[] {
  return inv.packages.filter((p) => !type || p.type === type).map((p) => `${p.name}@${p.version}`);
}

describe("package inventory of an image", () => {
  let app: Inventory;
  let deb: Inventory;
  let cache: LayerCache;
  before(async () => {
    await writeFixtures(layout, work);
    cache = new LayerCache(join(work, "cache.db"));
    app = await inventoryImage(new OciLayoutSource(layout), "app", "app", { tmpRoot: work, cache });
    deb = await inventoryImage(new OciLayoutSource(layout), "deb", "deb", { tmpRoot: work, cache });
  });
  after(() => cache?.close());

  it("reads the apk database and the distribution, keeping origins as source packages", () => {
    assert.deepEqual(app.distro?.id, "alpine");
    assert.equal(app.distro?.versionId, "3.18.4");
    assert.deepEqual(names(app, "apk"), ["busybox@1.36.1-r2", "libcrypto3@3.1.1-r0", "musl@1.2.4-r2"]);
    const crypto = app.packages.find((p) => p.name === "libcrypto3")!;
    assert.equal(crypto.source, "openssl");
    assert.deepEqual(crypto.licenses, ["Apache-2.0"]);
    assert.equal(
      crypto.purl,
      "pkg:apk/alpine/libcrypto3@3.1.1-r0?arch=x86_64&distro=alpine-3.18.4&upstream=openssl",
    );
  });

  it("lists Python packages, and not one a later layer deleted", () => {
    assert.deepEqual(names(app, "pypi"), ["Flask-Login@0.6.2", "urllib3@1.26.0"]);
    assert.equal(app.packages.find((p) => p.name === "Flask-Login")!.purl, "pkg:pypi/flask-login@0.6.2");
  });

  it("lists Node packages from node_modules and the lock file, and not a scope an opaque directory hid", () => {
    assert.deepEqual(names(app, "npm"), ["express@4.17.1", "left-pad@1.3.0", "qs@6.7.0"]);
    const express = app.packages.find((p) => p.name === "express")!;
    assert.deepEqual(express.locations.sort(), [
      "/srv/app/node_modules/express/package.json",
      "/srv/app/package-lock.json",
    ]);
    assert.deepEqual(express.licenses, ["MIT"]);
  });

  it("reads the Go binary's build info: its module, a replaced dependency and the standard library", () => {
    assert.deepEqual(names(app, "golang"), [
      "example.com/greet@(devel)",
      "example.com/hello@(devel)",
      `stdlib@v${goVersion()}`,
    ]);
    const std = app.packages.find((p) => p.name === "stdlib")!;
    assert.equal(std.layer.index, 2);
    assert.equal(std.layer.createdBy, "COPY hello /usr/local/bin/hello # buildkit");
  });

  it("reads jars, a jar inside a war, and reports a corrupt jar as unreadable", () => {
    assert.deepEqual(names(app, "maven"), [
      "org.apache.commons:commons-lang3@3.12.0",
      "org.example:demo@1.0.0",
    ]);
    assert.equal(
      app.packages.find((p) => p.name === "org.example:demo")!.purl,
      "pkg:maven/org.example/demo@1.0.0",
    );
    assert.equal(app.unreadable.length, 1);
    assert.equal(app.unreadable[0]!.path, "/opt/broken.jar");
    assert.equal(app.unreadable[0]!.layer.index, 3);
  });

  it("credits each package to the layer that added it, with its digest, diff_id and history line", () => {
    const urllib = app.packages.find((p) => p.name === "urllib3")!;
    assert.equal(urllib.layer.index, 1);
    assert.equal(urllib.layer.digest, app.layers[1]!.digest);
    assert.equal(urllib.layer.diffId, app.layers[1]!.diffId);
    assert.match(urllib.layer.createdBy!, /pip install/);
    assert.equal(app.packages.find((p) => p.name === "musl")!.layer.index, 0);
  });

  it("reads dpkg's status and status.d, keeps source packages, leaves out removed packages, takes licences from copyright files", () => {
    assert.deepEqual(names(deb, "deb"), [
      "libc6@2.36-9+deb12u4",
      "libssl3@3.0.11-1~deb12u2",
      "openssl@3.0.11-1~deb12u2",
      "tzdata@2024a-0+deb12u1",
      "zlib1g@1:1.2.13.dfsg-1+b1",
    ]);
    const libc = deb.packages.find((p) => p.name === "libc6")!;
    assert.equal(libc.source, "glibc");
    assert.equal(libc.purl, "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc");
    const zlib = deb.packages.find((p) => p.name === "zlib1g")!;
    assert.equal(zlib.source, "zlib");
    assert.equal(zlib.sourceVersion, "1:1.2.13.dfsg-1");
    assert.deepEqual(deb.packages.find((p) => p.name === "openssl")!.licenses, ["Apache-2.0"]);
  });

  it("reads rpmdb.sqlite's header blobs and says plainly when only a BerkeleyDB database is there", () => {
    assert.deepEqual(names(deb, "rpm"), ["openssl-libs@1:3.0.7-16.el9"]);
    const rpm = deb.packages.find((p) => p.type === "rpm")!;
    assert.equal(rpm.source, "openssl");
    assert.deepEqual(rpm.licenses, ["ASL 2.0"]);
    const bdb = deb.unreadable.find((u) => u.path === "/var/lib/rpm/Packages");
    assert.match(bdb!.error, /BerkeleyDB/);
  });

  it("never reads a layer twice: a second scan takes every layer from the cache", async () => {
    assert.equal(app.analysed.read, 5);
    const again = await inventoryImage(new OciLayoutSource(layout), "app", "app", { tmpRoot: work, cache });
    assert.deepEqual(again.analysed, { read: 0, cached: 5 });
    assert.deepEqual(
      again.packages.map((p) => p.purl),
      app.packages.map((p) => p.purl),
    );
  });
});

/** A tar stream of one huge file whose body is made on the fly, never held. */
async function* hugeEntry(name: string, size: number, head: string, fill: number): AsyncGenerator<Buffer> {
  const { encodeHeader, END_OF_ARCHIVE, padding } = await import("../../src/layer/tar.js");
  yield encodeHeader({ name, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
  const chunk = Buffer.alloc(1024 * 1024, fill);
  yield Buffer.from(head);
  let left = size - head.length;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    yield n === chunk.length ? chunk : chunk.subarray(0, n);
    left -= n;
  }
  yield Buffer.alloc(padding(size));
  yield* tarOf(
    [{ name: "usr/lib/python3/site-packages/ok-1.0.dist-info/METADATA", body: "Name: ok\nVersion: 1.0\n\n" }],
    false,
  );
  yield END_OF_ARCHIVE;
}

async function* tarOf(entries: Parameters<typeof makeTar>[0], withEnd = true): AsyncGenerator<Buffer> {
  const tar = await makeTar(entries);
  yield withEnd ? tar : tar.subarray(0, tar.length - 1024);
}

describe("hostile package data", () => {
  it("a 1 GiB METADATA without a blank line is reported unreadable, memory stays bounded, the rest is read", async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const a = await analyzeTar(
        hugeEntry(
          "usr/lib/python3/site-packages/huge-1.0.dist-info/METADATA",
          1024 ** 3,
          "Name: huge\nVersion: 1.0\n",
          0x41,
        ),
        { tmpDir: work },
      );
      const huge = a.sources.find((s) => s.path.includes("huge"))!;
      assert.match(huge.error!, /headers are larger than/);
      assert.equal(a.sources.find((s) => s.path.includes("ok-1.0"))!.packages[0]!.name, "ok");
    } finally {
      clearInterval(timer);
    }
    assert.ok(peak - before < 150 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1e6)} MB`);
  });

  it("a 1 GiB METADATA whose headers end early is read for its headers only", async () => {
    const a = await analyzeTar(
      hugeEntry(
        "usr/lib/python3/site-packages/big-2.0.dist-info/METADATA",
        1024 ** 3,
        "Name: big\nVersion: 2.0\n\n",
        0x42,
      ),
      { tmpDir: work },
    );
    assert.deepEqual(
      a.sources.find((s) => s.path.includes("big-2.0"))!.packages.map((p) => `${p.name}@${p.version}`),
      ["big@2.0"],
    );
  });

  it("a truncated dpkg status lists the complete entries and says the file was cut", async () => {
    const a = await analyzeTar(
      tarOf([
        {
          name: "var/lib/dpkg/status",
          body: "Package: a\nStatus: install ok installed\nVersion: 1.0\n\nPackage: b\nVersion: 2.",
        },
      ]),
      { tmpDir: work },
    );
    const s = a.sources[0]!;
    assert.deepEqual(
      s.packages.map((p) => p.name),
      ["a"],
    );
    assert.match(s.error!, /truncated/);
  });

  it("an ELF whose program headers lie about their place is unreadable, not a crash", async () => {
    const elf = Buffer.alloc(4096);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf.writeBigUInt64LE(10n ** 12n, 0x20); // e_phoff far beyond the file
    elf.writeUInt16LE(56, 0x36);
    elf.writeUInt16LE(3, 0x38);
    const liar = Buffer.from(elf);
    const badSize = Buffer.from(elf);
    badSize.writeBigUInt64LE(64n, 0x20);
    badSize.writeUInt16LE(12, 0x36); // a program header size no ELF has
    const a = await analyzeTar(
      tarOf([
        { name: "usr/bin/liar", body: liar, mode: 0o755 },
        { name: "usr/bin/badsize", body: badSize, mode: 0o755 },
        {
          name: "usr/bin/script",
          body: "#!/bin/sh\necho not an ELF file at all, just a script\n",
          mode: 0o755,
        },
      ]),
      { tmpDir: work },
    );
    assert.match(a.sources.find((s) => s.path === "usr/bin/liar")!.error!, /beyond the end of the file/);
    assert.match(a.sources.find((s) => s.path === "usr/bin/badsize")!.error!, /program header size/);
    assert.equal(
      a.sources.find((s) => s.path === "usr/bin/script"),
      undefined,
    );
  });

  it("a package.json that is not JSON and an unparsable lock file are reported, not fatal", async () => {
    const a = await analyzeTar(
      tarOf([
        { name: "app/node_modules/x/package.json", body: "{ not json" },
        { name: "app/node_modules/y/package.json", body: '{"name":"y","version":"1.0.0"}' },
      ]),
      { tmpDir: work },
    );
    assert.match(a.sources.find((s) => s.path.includes("/x/"))!.error!, /cannot be parsed/);
    assert.equal(a.sources.find((s) => s.path.includes("/y/"))!.packages[0]!.name, "y");
  });
});
