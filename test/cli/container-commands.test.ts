import assert from "node:assert/strict";
import { mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import {
  run,
  runOk,
  type Server,
  skopeo,
  startBerthRegistry,
  tempDir,
  waitFor,
} from "../helpers/processes.js";
import { inspect, leftovers } from "../runtime/helpers.js";

describe("container commands with a registry: run pulls, commit pushes, export, cp, rmi", () => {
  let reg: Server;
  let root: string;
  let busybox: string;
  before(async () => {
    reg = await startBerthRegistry();
    busybox = `${reg.host}/fx/busybox:1`;
    await skopeo(["copy", `oci:${fixtureLayout()}:busybox-1`, `docker://${busybox}`]);
    root = await tempRoot("berth-ctr2-");
  });
  after(async () => {
    const ids = (await berth(root, ["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(root, ["rm", "-f", ...ids]);
    await reg.stop();
  });

  test("run pulls an image the store does not have, as docker run does", async () => {
    const r = await berth(root, ["run", "--name", "first", busybox, "echo", "ran"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ran\n");
    assert.match(r.stderr, new RegExp(`^Unable to find image '${busybox}' locally\\n`));
    assert.match(r.stderr, /Digest: sha256:[0-9a-f]{64}/);
    const again = await berth(root, ["run", "--rm", busybox, "true"]);
    assert.doesNotMatch(again.stderr, /Unable to find image/);
  });

  test("run -i passes stdin through and keeps stdout and stderr apart; attach follows a detached container", async () => {
    const r = await berth(
      root,
      ["run", "--rm", "-i", busybox, "sh", "-c", "cat; echo to-stderr >&2; exit 3"],
      {
        input: "hello through stdin\n",
      },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hello through stdin\n");
    assert.match(r.stderr, /^to-stderr$/m);
    // The container speaks only once told to, and it is told once attach is connected to
    // conmon's socket (conmon holds one more socket): no race with a busy machine. (conmon binds
    // the socket through /proc/self/fd/N/attach, so /proc/net/unix does not show its path.)
    const id = (
      await berthOk(root, [
        "run",
        "-d",
        "--name",
        "followed",
        busybox,
        "sh",
        "-c",
        "while [ ! -e /tmp/go ]; do sleep 0.1; done; echo late-out; echo late-err >&2",
      ])
    ).stdout.trim();
    const conmon = Number(await readFile(join(root, "containers", id, "bundle/conmon.pid"), "utf8"));
    const sockets = async () => {
      let n = 0;
      for (const fd of await readdir(`/proc/${conmon}/fd`)) {
        if ((await readlink(`/proc/${conmon}/fd/${fd}`).catch(() => "")).startsWith("socket:")) n++;
      }
      return n;
    };
    const unattached = await sockets();
    const attaching = berth(root, ["attach", "followed"]);
    await waitFor("attach to connect", async () => (await sockets()) > unattached);
    await berthOk(root, ["exec", "followed", "touch", "/tmp/go"]);
    const attached = await attaching;
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(attached.stdout, "late-out\n");
    assert.match(attached.stderr, /^late-err$/m);
    await berthOk(root, ["rm", "followed"]);
  });

  test("commit → push → skopeo inspect, and a second run of the committed image elsewhere", async () => {
    await berthOk(root, [
      "run",
      "--name",
      "maker",
      busybox,
      "sh",
      "-c",
      "mkdir -p /srv && echo committed > /srv/msg; rm /etc/group",
    ]);
    const target = `${reg.host}/fx/committed:1`;
    const id = (
      await berthOk(root, [
        "commit",
        "-m",
        "a message",
        "-a",
        "Tester",
        "-c",
        'CMD ["cat", "/srv/msg"]',
        "-c",
        "ENV MODE=test",
        "maker",
        target,
      ])
    ).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    await berthOk(root, ["push", "-q", target]);
    const info = JSON.parse((await skopeo(["inspect", `docker://${target}`])).stdout) as {
      Layers: string[];
      Env: string[];
    };
    assert.equal(info.Layers.length, 2);
    assert.ok(info.Env.includes("MODE=test"));
    const config = JSON.parse((await skopeo(["inspect", "--config", `docker://${target}`])).stdout) as {
      author: string;
      config: { Cmd: string[] };
      history: { comment?: string }[];
    };
    assert.equal(config.author, "Tester");
    assert.deepEqual(config.config.Cmd, ["cat", "/srv/msg"]);
    assert.equal(config.history.at(-1)!.comment, "a message");
    // The layer carries the deletion as a .wh. file (what other tools read).
    const layout = await tempDir("berth-committed-");
    await skopeo(["copy", `docker://${target}`, `oci:${layout}:x`]);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const manifest = JSON.parse(
      await readFile(join(layout, "blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8"),
    ) as {
      layers: { digest: string }[];
    };
    const listing = (
      await runOk("tar", ["-tzf", join(layout, "blobs/sha256", manifest.layers[1]!.digest.slice(7))])
    ).stdout.split("\n");
    assert.ok(listing.includes("etc/.wh.group"), listing.join(","));
    assert.ok(listing.includes("srv/msg"));
    const other = await tempRoot("berth-ctr3-");
    const r = await berth(other, ["run", "--rm", target]);
    assert.equal(r.stdout, "committed\n");
    assert.equal(
      (await berth(other, ["run", "--rm", target, "sh", "-c", "test -e /etc/group || echo gone"])).stdout,
      "gone\n",
    );
  });

  test("export is the merged tree; cp copies both ways, with - for tar streams", async () => {
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "files",
      busybox,
      "sh",
      "-c",
      "echo inside > /tmp/made; echo made; sleep 1000",
    ]);
    // What the container writes is exported once it is written (a fixed pause is short under load).
    await waitFor("the container to write /tmp/made", async () =>
      (await berthOk(root, ["logs", "files"])).stdout.includes("made"),
    );
    const exported = await run("sh", [
      "-c",
      `node ${join(process.cwd(), "bin/berth.js")} --root ${root} export files | tar -t`,
    ]);
    const names = new Set(
      exported.stdout
        .split("\n")
        .filter(Boolean)
        .map((n) => n.replace(/\/$/, "")),
    );
    const inside = (
      await berthOk(root, ["exec", "files", "sh", "-c", "cd / && find bin etc tmp var -xdev | sort"])
    ).stdout
      .split("\n")
      .filter(Boolean);
    for (const n of inside) assert.ok(names.has(n), `export has ${n}`);
    assert.ok(names.has("tmp/made"));
    const dir = await tempDir("berth-cp-");
    await berthOk(root, ["cp", "files:/tmp/made", join(dir, "out.txt")]);
    assert.equal(await readFile(join(dir, "out.txt"), "utf8"), "inside\n");
    await mkdir(join(dir, "tree/sub"), { recursive: true });
    await writeFile(join(dir, "tree/sub/f"), "from host\n");
    await berthOk(root, ["cp", join(dir, "tree"), "files:/srv"]);
    assert.equal((await berthOk(root, ["exec", "files", "cat", "/srv/sub/f"])).stdout, "from host\n");
    const stream = await run("sh", [
      "-c",
      `node ${join(process.cwd(), "bin/berth.js")} --root ${root} cp files:/srv - | tar -tv`,
    ]);
    assert.match(stream.stdout, /srv\/sub\/f/);
    const tarball = (await runOk("sh", ["-c", `cd ${dir} && tar -c tree | base64 -w0`])).stdout;
    const r = await run("sh", [
      "-c",
      `echo ${tarball} | base64 -d | node ${join(process.cwd(), "bin/berth.js")} --root ${root} cp - files:/srv`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await berthOk(root, ["exec", "files", "cat", "/srv/tree/sub/f"])).stdout, "from host\n");
    // A link in the container cannot send a write outside it.
    await berthOk(root, ["exec", "files", "ln", "-s", "/", "/escape"]);
    await berthOk(root, ["cp", join(dir, "out.txt"), "files:/escape/tmp/"]);
    assert.equal((await berthOk(root, ["exec", "files", "cat", "/tmp/out.txt"])).stdout, "inside\n");
    await berthOk(root, ["stop", "-t", "0", "files"]);
    await berthOk(root, ["cp", join(dir, "out.txt"), "files:/stopped.txt"]);
    await berthOk(root, ["cp", "files:/stopped.txt", join(dir, "back.txt")]);
    assert.equal(await readFile(join(dir, "back.txt"), "utf8"), "inside\n");
  });

  test("an image a container uses cannot be removed; -f untags only; rm frees it", async () => {
    // The image committed above is a child of busybox (as docker commit's are): out of the way first.
    const committed = (await berthOk(root, ["images", "-q", `${reg.host}/fx/committed`])).stdout.trim();
    await berthOk(root, ["rmi", "-f", committed]);
    await berthOk(root, ["tag", busybox, "keep:1"]);
    await berthOk(root, ["create", "--name", "holder", "keep:1", "true"]);
    const byRef = await berth(root, ["rmi", busybox]);
    assert.equal(byRef.code, 0, "another tag remains: untag only");
    // Leave keep:1 the image's only reference (the pull also recorded a repo digest).
    const digests = (
      await berthOk(root, ["image", "inspect", "-f", "{{range .RepoDigests}}{{.}} {{end}}", "keep:1"])
    ).stdout
      .trim()
      .split(" ")
      .filter(Boolean);
    for (const d of digests) await berthOk(root, ["rmi", d]);
    const last = await berth(root, ["rmi", "keep:1"]);
    assert.equal(last.code, 1);
    const holder = (await inspect(root, "holder")).Id as string;
    const imageId = (await inspect(root, "holder")).Image as string;
    assert.match(
      last.stderr,
      new RegExp(
        `conflict: unable to remove repository reference "keep:1" \\(must force\\) - container ([0-9a-f]{12}) is using its referenced image ${imageId.slice(7, 19)}`,
      ),
    );
    const named = /container ([0-9a-f]{12}) is using/.exec(last.stderr)![1]!;
    const users = (await berthOk(root, ["ps", "-aq", "--filter", `ancestor=${imageId}`])).stdout.split("\n");
    assert.ok(
      users.includes(named) && users.includes(holder.slice(0, 12)),
      "it names a container made from the image",
    );
    const byId = await berth(root, ["rmi", imageId.slice(7, 19)]);
    assert.match(byId.stderr, /\(must be forced\) - image is being used by stopped container/);
    await berthOk(root, ["start", "holder"]);
    await berthOk(root, ["run", "-d", "--name", "runner", "keep:1", "sleep", "1000"]);
    const running = await berth(root, ["rmi", "-f", imageId]);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /\(cannot be forced\) - image is being used by running container/);
    const forced = await berthOk(root, ["rmi", "-f", "keep:1"]);
    assert.equal(forced.stdout, "Untagged: keep:1\n");
    await berthOk(root, ["image", "prune", "-af"]);
    assert.equal(
      (await berthOk(root, ["run", "--rm", imageId.slice(7), "echo", "still runs"])).stdout,
      "still runs\n",
    );
    const ids = (await berthOk(root, ["ps", "-aq", "--no-trunc", "--filter", `ancestor=${imageId}`])).stdout
      .split("\n")
      .filter(Boolean);
    assert.ok(ids.length >= 2);
    await berthOk(root, ["rm", "-f", ...ids]);
    for (const id of ids) assert.deepEqual(leftovers(root, id, []), []);
    const removed = await berthOk(root, ["rmi", imageId]);
    assert.match(removed.stdout, new RegExp(`Deleted: ${imageId}`));
  });
});
