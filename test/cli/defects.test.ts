import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BERTH_BIN, berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir, fixtureLayout } from "../helpers/fixtures.js";
import {
  run,
  runOk,
  type Server,
  skopeo,
  start,
  startBerthRegistry,
  tempDir,
  waitFor,
} from "../helpers/processes.js";

/** go-units HumanSizeWithPrecision(size, 3), written out here from its definition (decimal units, %.3g). */
function humanSize3(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(3))}${units[i]}`;
}

/** The defects a new user hit (issue 8), each reproduced through the CLI. */
describe("what a new user hit", () => {
  let reg: Server;
  let app: string;
  let busybox: string;
  before(async () => {
    reg = await startBerthRegistry();
    app = `${reg.host}/fx/app:1`;
    busybox = `${reg.host}/fx/busybox:1`;
    await skopeo(["copy", `oci:${fixtureLayout()}:app-1`, `docker://${app}`]);
    await skopeo(["copy", `oci:${fixtureLayout()}:busybox-1`, `docker://${busybox}`]);
    await skopeo(["copy", `oci:${fixtureLayout()}:busybox-1`, `docker://${reg.host}/other/busybox:1`]);
  });
  after(async () => reg.stop());

  test("rmi of both tags of an image pulled under two repositories leaves nothing behind", async () => {
    const root = await tempRoot();
    await berthOk(root, ["pull", "-q", busybox]);
    await berthOk(root, ["pull", "-q", `${reg.host}/other/busybox:1`]);
    const first = await berthOk(root, ["rmi", busybox]);
    assert.match(first.stdout, /^Untagged: .*fx\/busybox:1$/m);
    assert.match(
      first.stdout,
      /^Untagged: .*fx\/busybox@sha256:[0-9a-f]{64}$/m,
      "the repository's digest goes with its last tag",
    );
    await berthOk(root, ["rmi", `${reg.host}/other/busybox:1`]);
    assert.equal(
      (await berthOk(root, ["images", "-a"])).stdout.split("\n").length,
      2,
      "only the header is left",
    );
    assert.deepEqual(await readdir(join(root, "layers")).catch(() => []), []);
  });

  test("save -o into a directory that does not exist says so, as docker does, and writes nothing", async () => {
    const root = await tempRoot();
    await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const r = await berth(root, ["save", "-o", "/nonexistent/dir/x.tar", "busybox:1"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "Error: failed to save image: invalid output path: stat /nonexistent/dir: no such file or directory\n",
    );
  });

  test("SIZE has 3 significant digits in images and history; history -H=false gives bytes and RFC 3339 times", async () => {
    const root = await tempRoot();
    await berthOk(root, ["pull", "-q", app]);
    const bytes = Number((await berthOk(root, ["image", "inspect", "--format", "{{.Size}}", app])).stdout);
    assert.ok(bytes > 1_000_000);
    const listed = (await berthOk(root, ["images", "--format", "{{.Size}}"])).stdout.trim();
    assert.equal(listed, humanSize3(bytes));
    const history = (await berthOk(root, ["history", "--format", "{{.Size}}", app])).stdout
      .trim()
      .split("\n");
    const raw = (
      await berthOk(root, ["history", "-H=false", "--format", "{{.Size}}\t{{.CreatedSince}}", app])
    ).stdout
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    assert.equal(history.length, raw.length);
    raw.forEach(([size, created], i) => {
      assert.match(size!, /^\d+$/, "bytes, not a human size");
      assert.equal(history[i], humanSize3(Number(size)));
      assert.match(created!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });
  });

  test("images -q prints one ID per row, --digests one row per tag and digest", async () => {
    const root = await tempRoot();
    await berthOk(root, ["pull", "-q", busybox]);
    await berthOk(root, ["tag", busybox, `${reg.host}/fx/busybox:again`]);
    const ids = (await berthOk(root, ["images", "-q"])).stdout.trim().split("\n");
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
    // Pushing the second tag gives the repository a second digest only if the manifest differs;
    // a digest of another repository must never show up on this repository's rows.
    await berthOk(root, ["pull", "-q", `${reg.host}/other/busybox:1`]);
    const rows = (
      await berthOk(root, ["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"])
    ).stdout
      .trim()
      .split("\n")
      .sort();
    const digest = (
      await runOk("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        `docker://${busybox}`,
      ])
    ).stdout.trim();
    assert.deepEqual(rows, [
      `${reg.host}/fx/busybox 1 ${digest}`,
      `${reg.host}/fx/busybox again ${digest}`,
      `${reg.host}/other/busybox 1 ${digest}`,
    ]);
  });

  test("load -q still prints what it loaded; image prune with stdin at EOF removes nothing and exits 0", async () => {
    const root = await tempRoot();
    const r = await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    assert.equal(r.stdout, "Loaded image: busybox:1\n");
    await berthOk(root, ["tag", "busybox:1", "dangling:1"]);
    await berthOk(root, ["rmi", "busybox:1"]);
    const prune = await berth(root, ["image", "prune", "-a"], { input: "" });
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Are you sure you want to continue\? \[y\/N\] $/);
    assert.equal(
      (await berthOk(root, ["images", "-q"])).stdout.trim().split("\n").length,
      1,
      "nothing removed",
    );
  });

  test("--platform on a single-platform image names both platforms in Docker's words", async () => {
    const root = await tempRoot();
    const r = await berth(root, ["pull", "--platform", "linux/arm64", busybox]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^Error: image with reference ${reg.host}/fx/busybox:1 was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64$`,
        "m",
      ),
    );
    assert.doesNotMatch(r.stderr, /manifest list entries/);
  });

  test("a port that is not a registry gets a one-line error, not its web page", async () => {
    const page = `<!DOCTYPE html><html><head><title>Not a registry</title></head><body>${"x".repeat(2000)}</body></html>`;
    const server = createServer((_req, res) => {
      res.writeHead(404, { "Content-Type": "text/html" });
      res.end(page);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const r = await berth(await tempRoot(), ["pull", `127.0.0.1:${port}/some/image:1`]);
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.stderr, /<html|DOCTYPE|xxxx/i);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /web page, not a registry's answer/);
    } finally {
      server.close();
    }
  });

  test("an error about a blob names the blob", async () => {
    const root = await tempRoot();
    const manifest = JSON.parse((await skopeo(["inspect", "--raw", `docker://${app}`])).stdout) as {
      layers: { digest: string }[];
    };
    const missing = manifest.layers[1]!.digest;
    const res = await fetch(`http://${reg.host}/v2/fx/app/blobs/${missing}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    try {
      const r = await berth(root, ["pull", app]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^Error: layer ${missing}: blob unknown`, "m"));
    } finally {
      await skopeo(["copy", `oci:${fixtureLayout()}:app-1`, `docker://${app}`]);
    }
  });

  test("on a terminal the push and Extracting bars move", async () => {
    const root = await tempRoot();
    const pull = (
      await runOk("script", [
        "-qec",
        `${process.execPath} ${BERTH_BIN} --root ${root} pull ${app}`,
        "/dev/null",
      ])
    ).stdout;
    assert.match(pull, /Extracting\s+\[=+>?\s*\]\s+[1-9][\d.]*[kM]?B\//, "an Extracting bar past 0B");
    // A store that knows of no other repository holding the blobs: they are uploaded, not mounted.
    const fresh = await tempRoot();
    await berthOk(fresh, ["load", "-q", "-i", fixtureLayout()]);
    const id = (
      JSON.parse((await skopeo(["inspect", "--raw", `oci:${fixtureLayout()}:app-1`])).stdout) as {
        config: { digest: string };
      }
    ).config.digest;
    const target = `${reg.host}/pushed/bars:1`;
    await berthOk(fresh, ["tag", id, target]);
    const push = (
      await runOk("script", [
        "-qec",
        `${process.execPath} ${BERTH_BIN} --root ${fresh} push ${target}`,
        "/dev/null",
      ])
    ).stdout;
    assert.match(push, /Pushing\s+\[=+>?\s*\]\s+[1-9][\d.]*[kM]?B\//, "a Pushing bar past 0B");
  });

  test("a closed output pipe stops output quietly: the pull still finishes, save ends without a stack", async () => {
    const root = await tempRoot();
    const pull = await run("sh", [
      "-c",
      `${process.execPath} ${BERTH_BIN} --root ${root} pull ${app} | head -1`,
    ]);
    assert.equal(pull.code, 0);
    assert.equal(pull.stdout, "1: Pulling from fx/app\n");
    assert.equal(pull.stderr, "", "no stack trace");
    assert.equal((await berthOk(root, ["images", "-q", app])).stdout.trim().length, 12, "the pull finished");
    const save = await run("sh", [
      "-c",
      `${process.execPath} ${BERTH_BIN} --root ${root} save ${app} | head -c0; echo "status $?"`,
    ]);
    assert.equal(save.stderr, "");
  });

  test("a failed load leaves nothing in tmp/, and a killed one is swept at the next start", async () => {
    const root = await tempRoot();
    const broken = join(await tempDir("berth-broken-"), "broken.tar");
    await writeFile(broken, "not a tar".repeat(100));
    assert.equal((await berth(root, ["load", "-i", broken])).code, 1);
    assert.deepEqual(await readdir(join(root, "tmp")), []);
    // A load killed half-way: its directory stays until a berth process opens the store.
    const child = start(process.execPath, [BERTH_BIN, "--root", root, "load"], { stdin: true });
    child.proc.stdin.write(Buffer.alloc(10240));
    await waitFor("the load to start", async () => (await readdir(join(root, "tmp"))).length > 0);
    assert.equal((await readdir(join(root, "tmp"))).length, 1, "the load works in tmp/");
    await child.kill();
    await berthOk(root, ["images"]);
    assert.deepEqual(await readdir(join(root, "tmp")), [], "swept");
  });

  test("global flags work after the command; usage errors exit 125 with Docker's words", async () => {
    const root = await tempRoot();
    await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    const after = await run(process.execPath, [
      BERTH_BIN,
      "images",
      "--root",
      root,
      "--format",
      "{{.Repository}}",
    ]);
    assert.equal(after.stdout, "busybox\n");
    const unknown = await berth(root, ["images", "--nonsense"]);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /^unknown flag: --nonsense\n\nUsage: {2}berth images /);
    const missing = await berth(root, ["pull"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^berth: 'berth pull' requires 1 argument\n/);
  });

  test("version and completion scripts", async () => {
    const root = await tempRoot();
    const version = await berthOk(root, ["version"]);
    assert.match(version.stdout, /^Client:\n Version: +0\.1\.0\n Node version: +v\d+/);
    assert.match(version.stdout, new RegExp(`Store root: +${root}`));
    assert.match(version.stdout, /OS\/Arch: +linux\/(amd64|arm64)/);
    const bash = (await berthOk(root, ["completion", "bash"])).stdout;
    const checked = await run("bash", ["-n"], { input: bash });
    assert.equal(checked.code, 0, checked.stderr);
    // The script completes a command and a flag of a subcommand in a real bash.
    const script = `${bash}\nCOMP_WORDS=(berth ima); COMP_CWORD=1; _berth; echo "\${COMPREPLY[*]}"\nCOMP_WORDS=(berth image ls --dig); COMP_CWORD=3; _berth; echo "\${COMPREPLY[*]}"`;
    const completed = await run("bash", ["-c", script]);
    const [commands, flags] = completed.stdout.split("\n");
    assert.deepEqual(commands!.split(" ").sort(), ["image", "images"]);
    assert.equal(flags, "--digests");
    assert.match((await berthOk(root, ["completion", "zsh"])).stdout, /^#compdef berth\n/);
    assert.match(
      (await berthOk(root, ["completion", "fish"])).stdout,
      /complete -c berth -n '__fish_use_subcommand' -a pull /,
    );
    assert.equal((await berth(root, ["completion", "tcsh"])).code, 125);
    assert.ok(existsSync(root));
  });
});
