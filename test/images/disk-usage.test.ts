import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ImageDb, type LayerRecord } from "../../src/images/db.js";

// What `system df` counts of images: the bytes of their layers, each shared layer once.
let dir: string;
let db: ImageDb;

const layer = (n: number, size: number, parent: string | null = null): LayerRecord => ({
  chainId: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  diffId: `sha256:${String(n + 5)
    .repeat(64)
    .slice(0, 64)}`,
  parent,
  size,
});
const image = (id: string, layers: LayerRecord[]) =>
  db.addImage({
    image: {
      id,
      configSize: 100,
      created: null,
      os: "linux",
      architecture: "amd64",
      variant: null,
      size: layers.reduce((n, l) => n + l.size, 0),
      parent: null,
    },
    layers,
  });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-df-"));
  db = ImageDb.open(join(dir, "berth.db"));
});
after(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

test("layersSize counts the layers of every image or of some, a shared layer once", () => {
  assert.equal(db.layersSize(), 0);
  const base = layer(1, 1000);
  image(`sha256:${"a".repeat(64)}`, [base, layer(2, 200, base.chainId)]);
  image(`sha256:${"b".repeat(64)}`, [base, layer(3, 30, base.chainId)]);
  assert.equal(db.layersSize(), 1230);
  assert.equal(db.layersSize([`sha256:${"a".repeat(64)}`]), 1200);
  assert.equal(db.layersSize([`sha256:${"a".repeat(64)}`, `sha256:${"b".repeat(64)}`]), 1230);
  assert.equal(db.layersSize([]), 0);
  assert.equal(db.layersSize([`sha256:${"c".repeat(64)}`]), 0);
});
