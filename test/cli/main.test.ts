import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildProgram, commandHelp } from "../../src/cli/main.js";
import { berth, tempRoot } from "../client/berth.js";

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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
