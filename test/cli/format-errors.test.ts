import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";

/**
 * A --format that does not parse, or fails on the data, through the berth binary: one line on
 * stderr in the docker CLI's words, docker's exit status, never a stack trace. The expected lines
 * are what docker CLI 28.2.2 (built with go1.24.3) printed for the same formats against a
 * dockerd holding the same busybox image.
 */
describe("--format errors read as docker's", () => {
  let root: string;
  before(async () => {
    root = await tempRoot();
    await berthOk(root, ["load", "-i", join(fixtureDir(), "busybox.tar")]);
  });

  const cases: [args: string[], status: number, stderr: string, stdout?: string][] = [
    [
      ["images", "--format", "{{.Nope}}"],
      1,
      `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.imageContext`,
    ],
    [["images", "--format", "{{if}}"], 1, "template parsing error: template: :1: missing value for if"],
    [
      ["image", "ls", "--format", "{{nofunc}}"],
      1,
      'template parsing error: template: :1: function "nofunc" not defined',
    ],
    [["images", "--format", "{{.ID"], 1, "template parsing error: template: :1: unclosed action"],
    [
      ["images", "--format", "table {{.ID}}\\t{{.Nope}}"],
      1,
      `template parsing error: template: :1:10: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.imageContext`,
    ],
    [
      ["history", "--format", "{{.Nope}}", "busybox:1"],
      1,
      `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *image.historyContext`,
    ],
    [
      ["system", "df", "--format", "{{.Nope}}"],
      1,
      `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.diskUsageImagesContext`,
    ],
    [
      ["ps", "--format", "{{.Nope}}"],
      1,
      `failed to execute template: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`,
    ],
    [["ps", "--format", "{{if}}"], 1, "failed to parse template: template: :1: missing value for if"],
    [
      ["container", "ls", "--format", "table {{.Nope}}"],
      1,
      `failed to execute template: template: :1:8: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`,
    ],
    [
      ["ps", "--format", "{{.Label 1}}"],
      1,
      `failed to execute template: template: :1:9: executing "" at <1>: expected string; found 1`,
    ],
    [
      ["image", "inspect", "--format", "{{.Nope}}", "busybox:1"],
      1,
      `template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"`,
      "\n",
    ],
    [
      ["inspect", "--format", "{{.Config.Nope}}", "busybox:1"],
      1,
      `template parsing error: template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope"`,
      "\n",
    ],
    [
      ["image", "inspect", "--format", "{{if}}", "busybox:1"],
      64,
      "template parsing error: template: :1: missing value for if",
    ],
    [
      ["version", "--format", "a{{.Client.Nope}}b"],
      1,
      `template: version:1:10: executing "version" at <.Client.Nope>: can't evaluate field Nope in type system.clientVersion`,
      "a\n",
    ],
    [
      ["version", "--format", "{{if}}"],
      64,
      "template parsing error: template: version:1: missing value for if",
    ],
  ];

  for (const [args, status, stderr, stdout] of cases) {
    test(`berth ${args.join(" ")}`, async () => {
      const r = await berth(root, args);
      assert.equal(r.stderr, `${stderr}\n`, "one line, docker's words, no stack");
      assert.equal(r.code, status);
      assert.equal(r.stdout, stdout ?? "");
    });
  }

  test("ps -q with --format: docker's warning, and the format is still checked", async () => {
    const r = await berth(root, ["ps", "-q", "--format", "{{.Nope}}"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^WARNING: Ignoring custom format, because both --format and --quiet are set\.\n/);
    assert.match(r.stderr, /failed to execute template: .* in type \*formatter\.ContainerContext\n$/);
  });
});

describe("--format output, as docker's", () => {
  let root: string;
  before(async () => {
    root = await tempRoot();
    await berthOk(root, ["load", "-i", join(fixtureDir(), "busybox.tar")]);
  });

  test("inspect: typed structs where docker has them, maps where it has maps", async () => {
    const out = async (format: string) =>
      (await berthOk(root, ["image", "inspect", "--format", format, "busybox:1"])).stdout;
    assert.equal(await out("{{.Config.Labels}}"), "map[io.buildah.version:1.28.2]\n");
    assert.equal(await out("{{.Config.Labels.nope}}"), "<no value>\n", "a map's missing key is no value");
    assert.equal(
      await out(
        "{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{json .Config.Entrypoint}}|{{len .Config.Entrypoint}}",
      ),
      "[]|map[]|null|0\n",
      "null slices and maps print as Go's nil slices and maps",
    );
    assert.match(
      await out("{{.RootFS}}"),
      /^\{layers \[sha256:[0-9a-f]{64}\]\}\n$/,
      "a struct prints as {…}",
    );
    assert.match(await out("{{json .RootFS}}"), /^\{"Type":"layers","Layers":\["sha256:[0-9a-f]{64}"\]\}\n$/);
    assert.match(
      await out('{{index .RepoTags 0}} {{len .RepoTags}} {{printf "%d" .Size}}'),
      /^busybox:1 1 \d+\n$/,
    );
    const json = (await berthOk(root, ["image", "inspect", "--format", "json", "busybox:1"])).stdout;
    assert.equal(JSON.parse(json)[0].RepoTags[0], "busybox:1");
    assert.doesNotMatch(json, /\n./, "compact, one line");
  });

  test("images: .Label and .Labels read the image's labels; json leaves them out, as docker's rows have none", async () => {
    const r = await berthOk(root, [
      "images",
      "--format",
      '{{.Label "io.buildah.version"}}|{{.Labels}}|{{.Label "nope"}}|',
    ]);
    assert.equal(r.stdout, "1.28.2|io.buildah.version=1.28.2||\n");
    const json = JSON.parse((await berthOk(root, ["images", "--format", "{{json .}}"])).stdout);
    assert.equal(json.Labels, undefined);
    assert.equal(json.Repository, "busybox");
  });

  test("the template functions docker adds", async () => {
    const r = await berthOk(root, [
      "images",
      "--format",
      '{{upper .Repository}} {{title "a-b c"}} {{join (split .Repository "b") "+"}} {{pad .Tag 1 1}}|{{truncate .ID 4}} {{json .Tag}}',
    ]);
    assert.match(r.stdout, /^BUSYBOX A-B C \+usy\+ox {2}1 \|[0-9a-f]{4} "1"\n$/);
  });

  test("version --format json is the template {{json .}}", async () => {
    const json = JSON.parse((await berthOk(root, ["version", "--format", "json"])).stdout);
    assert.equal(json.Client.Version, "0.1.0");
  });
});
