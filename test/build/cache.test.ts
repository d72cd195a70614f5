import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { BuildCache } from "../../src/build/cache.js";
import { LayerStack } from "../../src/build/trees.js";
import { LocalStore } from "../../src/images/local-store.js";
import { tempDir } from "../helpers/processes.js";

describe("BuildCache: a layer's opaque directories, remembered by chain ID", () => {
  test("another process reads them back, and builder prune drops them with their layer", async () => {
    const root = await tempDir("berth-cache-");
    const chain = `sha256:${"1".repeat(64)}`;
    const first = new LocalStore(root);
    try {
      const cache = BuildCache.open(first);
      assert.equal(cache.opaqueDirs(chain), undefined, "nothing remembered yet");
      cache.rememberOpaqueDirs(chain, new Set(["opq", "a/b"]));
    } finally {
      first.close();
    }
    const second = new LocalStore(root);
    try {
      const cache = BuildCache.open(second);
      assert.deepEqual(cache.opaqueDirs(chain), new Set(["opq", "a/b"]));
      // The store has no layer of that chain ID: prune forgets what was remembered about it.
      await cache.prune(false);
      assert.equal(cache.opaqueDirs(chain), undefined);
    } finally {
      second.close();
    }
  });

  test("LayerStack takes opaque directories from its memo, and fills it from the layer", async () => {
    const root = await tempDir("berth-opaque-");
    const [lower, upper] = [join(root, "l1"), join(root, "l2")];
    for (const [dir, name] of [
      [lower, "old"],
      [upper, "new"],
    ] as const) {
      mkdirSync(join(dir, "opq"), { recursive: true });
      writeFileSync(join(dir, "opq", name), name);
    }
    // Neither layer carries an opaque xattr: read from the layers, both files show.
    const learned = new Map<string, Set<string>>();
    assert.deepEqual(new LayerStack([lower, upper], learned).list("opq"), ["new", "old"]);
    assert.deepEqual(learned.get(upper), new Set(), "what was read is kept for the next stack");
    // A memo saying the upper layer's opq is opaque is believed: the lower file is hidden.
    const told = new Map([[upper, new Set(["opq"])]]);
    assert.deepEqual(new LayerStack([lower, upper], told).list("opq"), ["new"]);
    assert.equal(new LayerStack([lower, upper], told).entry("opq/old"), undefined);
  });
});
