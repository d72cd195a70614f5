import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { matcher } from "../../src/build/context.js";
import { hashPlan, planCopy, resolveChown } from "../../src/build/copy.js";
import { BuildContextError, BuildError } from "../../src/build/errors.js";
import type { CopyStep } from "../../src/build/evaluate.js";
import { DirectoryTree, LayerStack } from "../../src/build/trees.js";
import { tempDir } from "../helpers/processes.js";

const loc = { file: "Dockerfile", line: 3, endLine: 3 };
const asRoot = process.getuid?.() === 0;

function step(sources: string[], dest: string, extra: Partial<CopyStep> = {}): CopyStep {
  return { kind: "copy", add: false, sources, inline: [], dest, link: false, ...extra };
}

function files(dir: string, tree: Record<string, string | { link: string } | null>): void {
  for (const [path, content] of Object.entries(tree)) {
    const full = join(dir, path);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(join(full, ".."), { recursive: true });
      if (typeof content === "string") writeFileSync(full, content);
      else symlinkSync(content.link, full);
    }
  }
}

describe("LayerStack: layers read as overlayfs shows them", {
  skip: !asRoot && "needs root (device whiteouts)",
}, () => {
  let stack: LayerStack;
  before(async () => {
    const root = await tempDir("berth-stack-");
    const [l1, l2, l3] = ["l1", "l2", "l3"].map((n) => join(root, n));
    files(l1!, {
      "etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
      "etc/group": "root:x:0:\nstaff:x:50:\n",
      "data/a": "a1",
      "data/b": "b1",
      "opq/old": "old",
      "gone/x": "x",
      "keep.txt": "k",
    });
    files(l2!, { "data/a": "a2", "opq/new": "new", "data/.wh.b": "" });
    mkdirSync(join(l3!, "etc"), { recursive: true });
    execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(l2!, "opq")]);
    execFileSync("mknod", [join(l3!, "gone"), "c", "0", "0"]);
    stack = new LayerStack([l1!, l2!, l3!]);
  });

  it("takes an entry from the topmost layer that has it", () => {
    assert.match(stack.entry("data/a")!.host, /l2\/data\/a$/);
    assert.match(stack.entry("keep.txt")!.host, /l1\/keep.txt$/);
  });

  it("hides what a .wh. file or a 0/0 device deletes, and what lies under an opaque directory", () => {
    assert.equal(stack.entry("data/b"), undefined);
    assert.equal(stack.entry("gone"), undefined);
    assert.equal(stack.entry("gone/x"), undefined);
    assert.equal(stack.entry("opq/old"), undefined);
    assert.deepEqual(stack.list("data"), ["a"]);
    assert.deepEqual(stack.list("opq"), ["new"]);
    assert.deepEqual(stack.list(""), ["data", "etc", "keep.txt", "opq"]);
  });

  it("resolves --chown names against the image's passwd and group files", () => {
    assert.deepEqual(resolveChown("app", stack, loc), { uid: 1000, gid: 1001 });
    assert.deepEqual(resolveChown("app:staff", stack, loc), { uid: 1000, gid: 50 });
    assert.deepEqual(resolveChown("42", stack, loc), { uid: 42, gid: 42 });
    assert.deepEqual(resolveChown("42:7", stack, loc), { uid: 42, gid: 7 });
    assert.throws(() => resolveChown("nobody-here", stack, loc), /unable to find user nobody-here/);
    assert.throws(() => resolveChown("app:nogroup", stack, loc), /unable to find group nogroup/);
  });
});

describe("planCopy", () => {
  let ctx: DirectoryTree;
  let lower: LayerStack;
  let outside: string;
  before(async () => {
    const root = await tempDir("berth-copy-");
    const dir = join(root, "ctx");
    outside = join(root, "secret.txt");
    writeFileSync(outside, "host secret");
    files(dir, {
      "hello.txt": "hello",
      "src/a.txt": "a",
      "src/b.log": "b",
      "src/sub/c.txt": "c",
      "src/inner-link": { link: "a.txt" },
      "link-to-hello": { link: "hello.txt" },
      "escape-abs": { link: outside },
      "escape-rel": { link: "../secret.txt" },
      "dir-link": { link: "src" },
      "ignored.txt": "x",
      "docs/keep.md": "keep",
      "docs/drop.md": "drop",
    });
    chmodSync(join(dir, "src"), 0o700);
    chmodSync(join(dir, "src/a.txt"), 0o640);
    if (asRoot) chownSync(join(dir, "hello.txt"), 1000, 1000);
    const ignore = matcher(["ignored.txt", "docs/*", "!docs/keep.md"]);
    ctx = new DirectoryTree(dir, ignore, true);
    const base = join(root, "base");
    files(base, { "srv/": null, "etc/passwd": "root:x:0:0::/root:/bin/sh\n" });
    chmodSync(join(base, "srv"), 0o711);
    utimesSync(join(base, "srv"), 1000, 1000);
    lower = new LayerStack([base]);
  });

  const source = () => ({ tree: ctx, confine: true, keepOwners: false, what: "the build context" });
  const plan = (s: CopyStep) => planCopy(s, source(), { lower, nowMs: 5_000, loc });
  const summary = (s: CopyStep) =>
    plan(s).entries.map(
      (e) => `${e.dest} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}${e.existing ? " existing" : ""}`,
    );

  it("a file into a new directory: parents created 0755 and root's, the file root's with its own mode", () => {
    assert.deepEqual(summary(step(["hello.txt"], "/a/b/")), [
      "a dir 755 0:0",
      "a/b dir 755 0:0",
      "a/b/hello.txt file 644 0:0",
    ]);
  });

  it("a file to a name; into a directory that exists below, which keeps its metadata", () => {
    assert.deepEqual(summary(step(["hello.txt"], "/greeting")), ["greeting file 644 0:0"]);
    const p = plan(step(["hello.txt"], "/srv"));
    assert.deepEqual(
      p.entries.map((e) => [e.dest, e.mode.toString(8), e.existing === true, e.mtimeMs]),
      [
        ["srv", "711", true, 1_000_000],
        ["srv/hello.txt", "644", false, p.entries[1]!.mtimeMs],
      ],
    );
  });

  it("a directory copies its contents (symlinks inside stay links), the destination made 0755", () => {
    assert.deepEqual(summary(step(["src"], "/app")), [
      "app dir 755 0:0",
      "app/a.txt file 640 0:0",
      "app/b.log file 644 0:0",
      "app/inner-link symlink 777 0:0",
      "app/sub dir 755 0:0",
      "app/sub/c.txt file 644 0:0",
    ]);
  });

  it("globs match one component at a time; several sources make the destination a directory", () => {
    assert.deepEqual(summary(step(["src/*.txt"], "/g")), ["g dir 755 0:0", "g/a.txt file 640 0:0"]);
    assert.deepEqual(summary(step(["hello.txt", "src/sub/c.txt"], "/m")), [
      "m dir 755 0:0",
      "m/c.txt file 644 0:0",
      "m/hello.txt file 644 0:0",
    ]);
    assert.deepEqual(
      summary(step(["nothing-*"], "/n/")),
      ["n dir 755 0:0"],
      "an empty wildcard is not an error",
    );
  });

  it("--chown owns what it writes and the directories it creates; --chmod sets every copied mode", () => {
    const p = planCopy(step(["src"], "/o/p", { chmod: 0o600 }), source(), {
      lower,
      nowMs: 0,
      loc,
      chown: { uid: 7, gid: 8 },
    });
    const byDest = new Map(p.entries.map((e) => [e.dest, e]));
    assert.equal(byDest.get("o")!.uid, 7);
    assert.equal(byDest.get("o/p")!.mode, 0o755, "the destination is created, not copied");
    assert.equal(byDest.get("o/p/a.txt")!.mode, 0o600);
    assert.equal(byDest.get("o/p/sub")!.mode, 0o600);
    assert.equal(byDest.get("o/p/inner-link")!.mode, 0o777, "links keep their mode");
    for (const e of p.entries) assert.deepEqual([e.uid, e.gid], [7, 8]);
  });

  it("a named symlink is followed (its name kept); a link to a directory copies the directory", () => {
    const p = plan(step(["link-to-hello"], "/l/"));
    assert.equal(p.entries[1]!.dest, "l/link-to-hello");
    assert.equal(p.entries[1]!.type, "file");
    assert.match(p.entries[1]!.source!, /hello\.txt$/);
    assert.ok(plan(step(["dir-link"], "/d")).entries.some((e) => e.dest === "d/sub/c.txt"));
  });

  it("keeps the owners of a stage's files, and gives the context's to root", {
    skip: !asRoot && "needs root",
  }, () => {
    assert.equal(plan(step(["hello.txt"], "/x")).entries[0]!.uid, 0);
    const fromStage = planCopy(
      step(["hello.txt"], "/x"),
      { ...source(), keepOwners: true, confine: false },
      { lower, nowMs: 0, loc },
    );
    assert.equal(fromStage.entries[0]!.uid, 1000);
  });

  it(".dockerignore hides files, and an exception brings one back", () => {
    assert.throws(() => plan(step(["ignored.txt"], "/x")), BuildContextError);
    assert.deepEqual(summary(step(["docs"], "/docs")), ["docs dir 755 0:0", "docs/keep.md file 644 0:0"]);
  });

  const refused: [string, string, RegExp][] = [
    ["a missing source", "missing.txt", /"\/missing\.txt": not found/],
    [
      "a path outside the context",
      "../secret.txt",
      /forbidden path outside the build context: \.\.\/secret\.txt/,
    ],
    [
      "a symlink to an absolute path",
      "escape-abs",
      /reached through a symlink that leaves the build context/,
    ],
    ["a symlink climbing out", "escape-rel", /reached through a symlink that leaves the build context/],
  ];
  for (const [what, src, message] of refused) {
    it(`refuses ${what}, naming the line`, () => {
      assert.throws(
        () => plan(step([src], "/x")),
        (err: unknown) =>
          err instanceof BuildError && message.test(err.message) && err.message.startsWith("Dockerfile:3: "),
      );
    });
  }

  it("the content hash covers contents, modes, owners and names, never times", async () => {
    const h = async (s: CopyStep, chown?: { uid: number; gid: number }) =>
      hashPlan(planCopy(s, source(), { lower, nowMs: Date.now(), loc, ...(chown ? { chown } : {}) }));
    const base = await h(step(["src"], "/app"));
    assert.equal(await h(step(["src"], "/app")), base, "a later time changes nothing");
    utimesSync(join(ctx.root, "src/a.txt"), 12345, 12345);
    assert.equal(await h(step(["src"], "/app")), base, "an mtime changes nothing");
    assert.notEqual(await h(step(["src"], "/app"), { uid: 1, gid: 1 }), base);
    assert.notEqual(await h(step(["src"], "/app", { chmod: 0o700 })), base);
    assert.notEqual(await h(step(["src"], "/app2")), base);
    writeFileSync(join(ctx.root, "src/a.txt"), "changed");
    assert.notEqual(await h(step(["src"], "/app")), base);
  });
});
