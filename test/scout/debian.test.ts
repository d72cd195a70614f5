import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OciLayoutSource } from "../../src/archive/oci-layout.js";
import { LayerCache } from "../../src/scout/cache.js";
import { inventoryImage } from "../../src/scout/inventory.js";
import type { Inventory } from "../../src/scout/model.js";
import { VulnDb } from "../../src/scout/vulndb/db.js";
import { matchInventory } from "../../src/scout/vulndb/match.js";
import { updateVulnDb } from "../../src/scout/vulndb/update.js";
import { repoRoot } from "../helpers/fixtures.js";

/**
 * A real Debian 12 image, made with debootstrap by scripts/make-debian.sh (built once, cached in
 * .fixtures/images-debian): its dpkg database as dpkg wrote it, then a layer that purges `less`.
 */
const layout = join(repoRoot(), ".fixtures/images-debian/oci");
const work = mkdtempSync(join(tmpdir(), "scout-debian-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("a Debian image made with debootstrap", () => {
  let inv: Inventory;
  let cache: LayerCache;
  before(
    () => {
      const r = spawnSync(process.execPath, [join(repoRoot(), "dist/scripts/fixtures.js"), "--debian"], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      assert.equal(r.status, 0, "scripts/fixtures.js --debian failed");
    },
    { timeout: 30 * 60_000 },
  );
  before(async () => {
    cache = new LayerCache(join(work, "cache.db"));
    inv = await inventoryImage(new OciLayoutSource(layout), "debian-12", "debian:12", {
      tmpRoot: work,
      cache,
    });
  });
  after(() => cache?.close());

  it("knows the distribution and reads every installed package, none unreadable", () => {
    assert.equal(inv.distro?.id, "debian");
    assert.equal(inv.distro?.versionId, "12");
    assert.equal(inv.distro?.codename, "bookworm");
    assert.deepEqual(inv.unreadable, []);
    const names = new Set(inv.packages.map((p) => p.name));
    for (const n of ["base-files", "bash", "dpkg", "libc6", "libssl3", "libexpat1", "zlib1g", "apt"])
      assert.ok(names.has(n), n);
    assert.ok(inv.packages.length > 60, `${inv.packages.length} packages`);
    for (const p of inv.packages) {
      assert.equal(p.type, "deb");
      assert.match(p.purl, /^pkg:deb\/debian\/[^@]+@[^?]+\?arch=(amd64|all)&distro=debian-12/);
    }
  });

  it("does not list less, purged by the second layer, and credits the rest to the first", () => {
    assert.equal(
      inv.packages.find((p) => p.name === "less"),
      undefined,
    );
    assert.ok(inv.packages.every((p) => p.layer.index === 0));
    assert.equal(inv.layers.length, 2);
    assert.match(inv.layers[1]!.createdBy!, /dpkg --purge less/);
  });

  it("keeps source packages and finds licences in the copyright files", () => {
    const libc = inv.packages.find((p) => p.name === "libc6")!;
    assert.equal(libc.source, "glibc");
    assert.equal(inv.packages.find((p) => p.name === "libssl3")!.source, "openssl");
    assert.ok(inv.packages.find((p) => p.name === "bash")!.licenses.includes("GPL-3+"));
  });

  it("a second scan reads nothing: both layers come from the cache", async () => {
    const again = await inventoryImage(new OciLayoutSource(layout), "debian-12", "debian:12", {
      tmpRoot: work,
      cache,
    });
    assert.deepEqual(again.analysed, { read: 0, cached: 2 });
    assert.equal(again.packages.length, inv.packages.length);
  });

  it("matches the tracker by source package and release, whatever the versions of the day", async () => {
    const feed = join(work, "tracker.json");
    writeFileSync(
      feed,
      JSON.stringify({
        glibc: { "CVE-2099-0001": { releases: { bookworm: { status: "open", urgency: "medium" } } } },
        openssl: {
          "CVE-2099-0002": {
            releases: { bookworm: { status: "resolved", fixed_version: "99.0-1", urgency: "high" } },
          },
          "CVE-2099-0003": {
            releases: { bookworm: { status: "resolved", fixed_version: "0", urgency: "high" } },
          },
          "CVE-2099-0004": {
            releases: { bookworm: { status: "resolved", fixed_version: "0.9-1", urgency: "high" } },
          },
        },
        less: { "CVE-2099-0005": { releases: { bookworm: { status: "open", urgency: "high" } } } },
      }),
    );
    const dbPath = join(work, "vulndb.db");
    await updateVulnDb(dbPath, [feed], work);
    const db = VulnDb.open(dbPath);
    try {
      const { findings } = matchInventory(inv, db);
      const got = findings.map((f) => `${f.package.name} ${f.id}`).sort();
      const glibc = inv.packages.filter((p) => p.source === "glibc").map((p) => `${p.name} CVE-2099-0001`);
      const openssl = inv.packages
        .filter((p) => p.source === "openssl")
        .map((p) => `${p.name} CVE-2099-0002`);
      assert.ok(glibc.length >= 2, "libc6 and libc-bin");
      assert.deepEqual(got, [...glibc, ...openssl].sort());
    } finally {
      db.close();
    }
  });
});
