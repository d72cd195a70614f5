#!/usr/bin/env node
// The CLI's start (README, "The build"). CommonJS (bin/package.json), as an ES module entry makes
// Node set up its ES module loader first. It runs the esbuild bundle (dist/bundle/berth.js) with
// its V8 code cache when the bundle is at least as new as tsc's output, and tsc's output
// otherwise, so that `npx tsc -p tsconfig.json` alone is enough to run changed code.
// BERTH_BUNDLE=0 forces tsc's output, BERTH_BUNDLE=1 the bundle; BERTH_DEBUG_START=1 says on
// stderr which one ran, whether V8 took the cache, and where the time went (bench/startup.ts).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dist = path.join(__dirname, "..", "dist");
const bundle = path.join(dist, "bundle", "berth.js");
const argv = process.argv;
const debug = process.env.BERTH_DEBUG_START ? [["node", performance.now()]] : undefined;
if (debug)
  process.on("exit", () => {
    debug.push(["command", performance.now()]);
    const phases = debug.slice(1).map(([name, at], i) => `${name} ${(at - debug[i][1]).toFixed(1)}`);
    process.stderr.write(`berth: ms node ${debug[0][1].toFixed(1)}, ${phases.join(", ")}\n`);
  });

if (argv.length === 3 && (argv[2] === "--version" || argv[2] === "-v")) {
  // What commander prints for it (a test keeps the two equal), without loading anything.
  process.stdout.write(`${require("../package.json").version}\n`);
} else if (bundleIsCurrent()) {
  runBundle();
} else {
  if (debug) process.stderr.write("berth: started from dist/src\n");
  import("../dist/src/cli/main.js").then(async (cli) => {
    debug?.push(["load", performance.now()]);
    process.exitCode = await cli.main(argv);
  });
}

/** Two stats: the bundle, and tsc's output of the CLI's entry, which every tsc run rewrites. */
function bundleIsCurrent() {
  const choice = process.env.BERTH_BUNDLE;
  if (choice === "0") return false;
  const built = fs.statSync(bundle, { throwIfNoEntry: false });
  if (!built) return false;
  if (choice === "1") return true;
  const tsc = fs.statSync(path.join(dist, "src", "cli", "main.js"), { throwIfNoEntry: false });
  return !tsc || built.mtimeMs >= tsc.mtimeMs;
}

/**
 * Compiles the bundle as Node would a CommonJS module, but through vm.Script, which takes V8's
 * cached code: a missing, stale or damaged cache is refused by V8 and the bundle compiles as
 * usual, with nothing shown. Under --enable-source-maps, a plain require, which Node maps.
 */
function runBundle() {
  const train = process.env.BERTH_CODE_CACHE_TRAIN;
  if (process.sourceMapsEnabled && !train) return start(require(bundle));
  const vm = require("node:vm");
  const { createRequire, wrap } = require("node:module");
  // Release builds of V8 do not check a cache's checksum, and a flipped bit would crash it.
  require("node:v8").setFlagsFromString("--verify-snapshot-checksum");
  const cacheFile = `${bundle}.cache`;
  let cachedData;
  if (!train) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {}
  }
  const script = new vm.Script(wrap(fs.readFileSync(bundle, "utf8")), { filename: bundle, cachedData });
  if (debug) {
    debug.push(["compile", performance.now()]);
    const cache = cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "none";
    process.stderr.write(`berth: started from dist/bundle, code cache ${cache}\n`);
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  debug?.push(["evaluate", performance.now()]);
  if (train) trainCache(mod.exports, script, cacheFile, train);
  else start(mod.exports);
}

function start(cli) {
  cli.main(argv).then((code) => {
    process.exitCode = code;
  });
}

/**
 * The build's step (scripts/bundle.ts): runs the common commands against a scratch store so
 * that the code they compile is in the cache, then writes it (temp file, rename). Only those:
 * V8 deserialises the whole cache on every start, and a cache of every command's code (730 KB)
 * cost more to load than the few functions a rarer command compiles itself.
 */
async function trainCache(cli, script, cacheFile, scratch) {
  for (const args of [["images"], ["ps", "-a"]])
    await cli.main(["node", "berth", "--root", scratch, ...args]);
  const temp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, script.createCachedData());
  fs.renameSync(temp, cacheFile);
  process.exitCode = 0;
}
