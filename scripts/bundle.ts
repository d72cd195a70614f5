/**
 * Bundles the CLI for a fast start (issue 21), after `tsc`:
 *
 *   node dist/scripts/bundle.js        (npm run build, npm install's prepare and npm test's pretest)
 *
 * esbuild writes `dist/bundle/berth.js`, one CommonJS file holding every Berth module the CLI
 * reaches: each module's top-level code runs only when it is first imported (esbuild's lazy
 * module wrappers), so `berth ps` evaluates neither the builder nor the registry server. The
 * unpack worker is a second entry. better-sqlite3's JavaScript is inlined (src/images/db.ts loads
 * its addon by path; `bindings`, its search for the addon elsewhere, stays outside). Large
 * packages that few commands use stay in node_modules (pino, pg and the AWS SDK load only in
 * `registry serve`, dockerfile-ast in `build`, yaml, tar-stream and bcryptjs in a few): every
 * start reads the bundle and its cache, so what is in them costs every command.
 *
 * Then the V8 code cache of the bundle: bin/berth.js run once in a training mode that compiles
 * what the common commands need and writes `dist/bundle/berth.js.cache` (temp file + rename).
 * bin/berth.js uses the bundle when it is at least as new as tsc's output, with the cache when
 * V8 accepts it; it is why a single CommonJS file and not ES module chunks: Node 20 can cache
 * compiled code only for scripts (bench/RESULTS.md, issue 21, has the measurements).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const outdir = join(root, "dist/bundle");

rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { berth: "src/cli/main.ts", "unpack-worker": "src/layer/unpack-worker.ts" },
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // vm.Script (bin/berth.js) has no loader for import(): the few left (node: modules) become require.
  supported: { "dynamic-import": false },
  sourcemap: "linked",
  external: [
    "bindings",
    "pino",
    "pg",
    "@aws-sdk/*",
    "@smithy/*",
    "undici",
    "undici/*",
    "yaml",
    "dockerfile-ast",
    "tar-stream",
    "bcryptjs",
  ],
  // import.meta.url names the bundle (the unpack worker is found beside it; createRequire
  // resolves node_modules from it).
  define: { "import.meta.url": "__berthModuleUrl" },
  banner: { js: 'var __berthModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazyChildProcessForCommander()],
  logLevel: "warning",
});
writeFileSync(join(outdir, "package.json"), '{ "type": "commonjs" }\n');

/**
 * commander requires node:child_process at load, for executable subcommands Berth does not have:
 * the module (and the net and dgram modules it loads) is compiled on every start. Commander gets
 * it on first use instead.
 */
function lazyChildProcessForCommander(): esbuild.Plugin {
  return {
    name: "lazy-child-process-for-commander",
    setup(build) {
      build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        args.importer.includes("/node_modules/commander/")
          ? { path: "child_process", namespace: "lazy-child-process" }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
        contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
        loader: "js",
      }));
    },
  };
}

// Training: the commands most run compiled once, their code kept in the cache. The cache only
// makes the start faster: when it cannot be made, the build says so and goes on without it (the
// launcher starts without one; test/cli/bundle.test.ts expects one, so CI notices).
try {
  const scratch = mkdtempSync(join(tmpdir(), "berth-cache-train-"));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_CODE_CACHE_TRAIN: scratch, BERTH_BUNDLE: "1" };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, [join(root, "bin/berth.js")], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.trim()}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} catch (err) {
  process.stderr.write(
    `bundle: no code cache written (the CLI starts without it): ${(err as Error).message}\n`,
  );
}
