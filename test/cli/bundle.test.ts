/**
 * The bundled CLI (scripts/bundle.ts, bin/berth.js) against tsc's output: the same commands with
 * the same help, the launcher's choice between them, and a start that survives a missing or
 * damaged code cache.
 */
import assert from "node:assert/strict";
import {
  copyFile,
  cp,
  mkdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { Command } from "../../src/cli/commander.js";
import { buildProgram as tscProgram } from "../../src/cli/main.js";
import { sourceMappedStack } from "../../src/cli/stack-trace.js";
import { repoRoot } from "../helpers/fixtures.js";
import { run, tempDir } from "../helpers/processes.js";

const repo = repoRoot();
const bundleFile = join(repo, "dist/bundle/berth.js");

type Cli = typeof import("../../src/cli/main.js");

before(async () => {
  const [b, t] = await Promise.all([stat(bundleFile), stat(join(repo, "dist/src/cli/main.js"))]).catch(() => {
    throw new Error("no bundle: run `npm run build` (or `node dist/scripts/bundle.js` after tsc)");
  });
  if (b.mtimeMs < t.mtimeMs)
    throw new Error("the bundle is older than tsc's output: run `node dist/scripts/bundle.js` first");
});

/** Every command of the tree with its path ("image ls"), hidden ones included. */
function commands(program: Command): Map<string, Command> {
  const out = new Map<string, Command>();
  const walk = (cmd: Command, path: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...path, sub.name()];
      out.set(p.join(" "), sub);
      walk(sub, p);
    }
  };
  walk(program, []);
  return out;
}

describe("the bundle and tsc's output are the same CLI", () => {
  test("every command, found in commander's tree, has the same --help in both", async () => {
    const bundled = createRequire(import.meta.url)(bundleFile) as Cli;
    const fromTsc = commands(await tscProgram());
    const fromBundle = commands(await bundled.buildProgram());
    assert.ok(fromTsc.size > 60, `the tree has all commands (${fromTsc.size})`);
    assert.deepEqual([...fromBundle.keys()].sort(), [...fromTsc.keys()].sort());
    for (const [path, cmd] of fromTsc)
      assert.equal(fromBundle.get(path)!.helpInformation(), cmd.helpInformation(), `berth ${path} --help`);
  });

  test("through bin/berth.js: the root help, a command's help, Docker's unknown-command and unknown-flag errors", async () => {
    const both = async (args: string[]) => {
      const [b, t] = await Promise.all([
        run(process.execPath, [join(repo, "bin/berth.js"), ...args], { env: { BERTH_BUNDLE: "1" } }),
        run(process.execPath, [join(repo, "bin/berth.js"), ...args], { env: { BERTH_BUNDLE: "0" } }),
      ]);
      assert.deepEqual(b, t, `berth ${args.join(" ")}`);
      return b;
    };
    const help = await both(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: berth \[options\] \[command\]/);
    assert.match(help.stdout, /\n {2}images \[options\] \[repository\] +List images\n/);
    assert.match(
      (await both(["images", "--help"])).stdout,
      /^Usage: berth images \[options\] \[repository\]/,
    );
    // docker 28: `docker: unknown command: docker frob`, exit 1; a flag error exits 125.
    assert.deepEqual(await both(["frob"]), {
      code: 1,
      stdout: "",
      stderr: "berth: unknown command: berth frob\n\nRun 'berth --help' for more information\n",
    });
    const flag = await both(["images", "--frob"]);
    assert.equal(flag.code, 125);
    assert.match(flag.stderr, /^unknown flag: --frob\n\nUsage: {2}berth images/);
  });

  test("--version, answered by the launcher, is the program's version and the package's", async () => {
    const pkg = JSON.parse(await readFile(join(repo, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-v"]) {
      const r = await run(process.execPath, [join(repo, "bin/berth.js"), flag]);
      assert.deepEqual(r, { code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    }
    assert.equal((await tscProgram()).version(), pkg.version);
  });

  test("a bug's stack points at the TypeScript, from the bundle as from tsc's output", () => {
    const bundled = createRequire(import.meta.url)(bundleFile) as Cli;
    let err: Error | undefined;
    try {
      bundled.hoistGlobalFlags(null as unknown as string[]);
    } catch (e) {
      err = e as Error;
    }
    assert.match(err!.stack!, /dist\/bundle\/berth\.js:\d+:\d+/);
    const mapped = sourceMappedStack(err!.stack!);
    assert.match(mapped, new RegExp(`\\(${join(repo, "src/cli/main.ts")}:\\d+:\\d+\\)`));
    assert.doesNotMatch(mapped, /dist\/bundle/);
  });
});

describe("the launcher", () => {
  /** A checkout of its own: bin/, package.json and the bundle copied, tsc's output and node_modules linked. */
  let sandbox: string;
  let sandboxBundle: string;
  before(async () => {
    sandbox = await tempDir("berth-launcher-");
    await mkdir(join(sandbox, "dist"), { recursive: true });
    await cp(join(repo, "bin"), join(sandbox, "bin"), { recursive: true });
    await copyFile(join(repo, "package.json"), join(sandbox, "package.json"));
    await cp(join(repo, "dist/bundle"), join(sandbox, "dist/bundle"), { recursive: true });
    await symlink(join(repo, "dist/src"), join(sandbox, "dist/src"));
    await symlink(join(repo, "node_modules"), join(sandbox, "node_modules"));
    sandboxBundle = join(sandbox, "dist/bundle/berth.js");
  });

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    const root = await tempDir("berth-launcher-store-");
    const r = await run(process.execPath, [join(sandbox, "bin/berth.js"), "--root", root, "images"], {
      env: { BERTH_DEBUG_START: "1", ...env },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
    const [first, timings, ...rest] = r.stderr.split("\n");
    assert.match(timings!, /^berth: ms node [\d.]+, (compile|load) [\d.]+, .*command [\d.]+$/);
    assert.deepEqual(rest, [""]);
    return `${first}\n`;
  };

  test("runs the bundle with its code cache when the bundle is newer than tsc's output", async () => {
    assert.equal(await start(), "berth: started from dist/bundle, code cache accepted\n");
  });

  test("a missing cache, a truncated one, one with flipped bits or garbage: the normal start, nothing shown", async () => {
    const cacheFile = `${sandboxBundle}.cache`;
    const good = await readFile(cacheFile);
    try {
      await writeFile(cacheFile, good.subarray(0, 1000));
      assert.equal(await start(), "berth: started from dist/bundle, code cache rejected\n");
      const flipped = Buffer.from(good);
      for (let i = 64; i < flipped.length; i += 997) flipped[i]! ^= 0x5a;
      await writeFile(cacheFile, flipped);
      assert.equal(await start(), "berth: started from dist/bundle, code cache rejected\n");
      await writeFile(cacheFile, Buffer.alloc(4096, 7));
      assert.equal(await start(), "berth: started from dist/bundle, code cache rejected\n");
      await writeFile(cacheFile, "");
      assert.equal(await start(), "berth: started from dist/bundle, code cache rejected\n");
      await cp(join(repo, "package.json"), cacheFile, { force: true });
      assert.equal(await start(), "berth: started from dist/bundle, code cache rejected\n");
      await writeFile(cacheFile, good);
      await rm(cacheFile);
      assert.equal(await start(), "berth: started from dist/bundle, code cache none\n");
    } finally {
      await writeFile(cacheFile, good);
    }
  });

  test("runs tsc's output when tsc ran after the bundle was made, or when told to", async () => {
    const then = new Date(Date.now() - 3600_000);
    await utimes(sandboxBundle, then, then);
    assert.equal(await start(), "berth: started from dist/src\n");
    const now = new Date();
    await utimes(sandboxBundle, now, now);
    assert.equal(await start({ BERTH_BUNDLE: "0" }), "berth: started from dist/src\n");
    assert.match(await start(), /^berth: started from dist\/bundle/);
  });

  test("without a bundle, tsc's output", async () => {
    const away = `${sandboxBundle}.away`;
    await rename(sandboxBundle, away);
    try {
      assert.equal(await start(), "berth: started from dist/src\n");
      assert.equal(await start({ BERTH_BUNDLE: "1" }), "berth: started from dist/src\n");
    } finally {
      await rename(away, sandboxBundle);
    }
  });
});
