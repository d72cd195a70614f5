import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildProgram, commandHelp, hoistGlobalFlags, reportError } from "../../src/cli/main.js";
import { InvalidArgumentError, UsageError } from "../../src/errors.js";
import { InvalidReferenceError } from "../../src/oci/errors.js";
import { berth, tempRoot } from "../client/berth.js";

/** What reportError writes to stderr, and the status it gives. */
function report(err: unknown): { status: number; text: string } {
  const write = process.stderr.write;
  let text = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { status: reportError(err), text };
  } finally {
    process.stderr.write = write;
  }
}

describe("errors are rendered once, at the edge", () => {
  test("a user's mistake is one line: Docker's reference wording bare, the rest after Error:", () => {
    assert.deepEqual(report(new InvalidReferenceError("UPPER", "repository name must be lowercase")), {
      status: 1,
      text: "invalid reference format: repository name must be lowercase\n",
    });
    assert.deepEqual(report(new InvalidArgumentError("invalid output path")), {
      status: 1,
      text: "Error: invalid output path\n",
    });
    assert.deepEqual(report(new UsageError("bad flag value")), {
      status: 125,
      text: "Error: bad flag value\n",
    });
  });

  test("a system error is the user's too: one line", () => {
    const err = Object.assign(new Error("ENOSPC: no space left on device, write"), {
      code: "ENOSPC",
      syscall: "write",
    });
    assert.deepEqual(report(err), { status: 1, text: "Error: ENOSPC: no space left on device, write\n" });
  });

  test("anything else is a bug: said so, with its stack", () => {
    const { status, text } = report(new TypeError("cannot read properties of undefined"));
    assert.equal(status, 1);
    assert.match(
      text,
      /^berth: internal error \(a bug in berth; please report it\):\nTypeError: cannot read/,
    );
    assert.match(text, /\n\s+at /, "the stack follows");
  });
});

describe("global flags after the command", () => {
  const argv = (...a: string[]) => ["node", "berth", ...a];
  test("--root after the command moves in front of it", () => {
    assert.deepEqual(
      hoistGlobalFlags(argv("images", "--root", "/s", "-q")),
      argv("--root", "/s", "images", "-q"),
    );
    assert.deepEqual(hoistGlobalFlags(argv("image", "ls", "--root=/s")), argv("--root=/s", "image", "ls"));
  });
  test("a container's command keeps its flags: run, create and exec stop at the image or container", () => {
    assert.deepEqual(
      hoistGlobalFlags(argv("run", "--rm", "busybox", "ls", "--root", "x")),
      argv("run", "--rm", "busybox", "ls", "--root", "x"),
    );
    assert.deepEqual(
      hoistGlobalFlags(argv("run", "--root", "/s", "busybox", "ls", "--root")),
      argv("--root", "/s", "run", "busybox", "ls", "--root"),
    );
    assert.deepEqual(
      hoistGlobalFlags(argv("container", "exec", "c1", "cmd", "--root", "y")),
      argv("container", "exec", "c1", "cmd", "--root", "y"),
    );
    assert.deepEqual(
      hoistGlobalFlags(argv("pull", "busybox", "--root", "/s")),
      argv("--root", "/s", "pull", "busybox"),
    );
  });

  test("registry serve keeps its own --root, and -- ends the flags", () => {
    assert.deepEqual(
      hoistGlobalFlags(argv("registry", "serve", "--root", "./data")),
      argv("registry", "serve", "--root", "./data"),
    );
    assert.deepEqual(
      hoistGlobalFlags(argv("run", "img", "--", "--root", "x")),
      argv("run", "img", "--", "--root", "x"),
    );
  });
});

describe("the root program", () => {
  test("the names-only listing matches every command's own usage term and description", async () => {
    const program = await buildProgram();
    const help = program.createHelp();
    const listed = commandHelp();
    const actual = Object.fromEntries(
      program.commands.map((c) => [c.name(), [help.subcommandTerm(c), c.description()]]),
    );
    assert.deepEqual(listed, actual);
  });

  test("--help lists every command, --version prints the version, an unknown command is refused", async () => {
    const root = await tempRoot("berth-main-");
    const h = await berth(root, ["--help"]);
    assert.equal(h.code, 0, h.stderr);
    for (const [term, description] of Object.values(commandHelp()))
      assert.match(h.stdout, new RegExp(`^  ${escapeRegExp(term)} +${escapeRegExp(description)}$`, "m"));
    assert.match(h.stdout, /^ {2}help \[command\] +display help for command$/m);
    const v = await berth(root, ["--version"]);
    assert.equal(v.stdout, "0.1.0\n");
    const u = await berth(root, ["nosuch"]);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /^berth: unknown command: berth nosuch/);
    const help = await berth(root, ["help", "ps"]);
    assert.match(help.stdout, /^Usage: berth ps \[options\]/);
  });
});

describe("a command that does not exist, in docker CLI 28's words", () => {
  test("in a group: the group's usage line, exit 1; with --help too", async () => {
    const root = await tempRoot("berth-main-");
    for (const args of [
      ["container", "stats"],
      ["container", "stats", "--help"],
      ["image", "nosuch", "-h"],
    ]) {
      const r = await berth(root, args);
      const group = args[0]!;
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `berth: unknown command: berth ${group} ${args[1]}\n\nUsage:  berth ${group}\n\nRun 'berth ${group} --help' for more information\n`,
      );
    }
  });

  test("at the top: no usage line; --help does not turn it into the root help", async () => {
    const root = await tempRoot("berth-main-");
    for (const args of [["volume"], ["volume", "--help"], ["volume", "ls", "-h"]]) {
      const r = await berth(root, args);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        "berth: unknown command: berth volume\n\nRun 'berth --help' for more information\n",
      );
    }
    const topic = await berth(root, ["help", "volume"]);
    assert.equal(topic.code, 1);
    assert.equal(topic.stderr, "unknown help topic: volume\n");
  });

  test("a group alone prints its help, and that is no error", async () => {
    const r = await berth(await tempRoot("berth-main-"), ["container"]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^Usage: berth container /);
    const sub = await berth(await tempRoot("berth-main-"), ["container", "ls", "--help"]);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /^Usage: berth container ls/);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
