import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { type FaultProxy, type Faults, startFaultProxy } from "../helpers/fault-proxy.js";
import { fixtureLayout } from "../helpers/fixtures.js";
import { runOk, type Server, startBerthRegistry, startDistribution } from "../helpers/processes.js";

const ALL: Faults = {
  cutBlobs: true,
  manifests503: true,
  tags429: true,
  patch503: true,
  put503: true,
};

async function rawManifest(ref: string): Promise<string> {
  return (await runOk("skopeo", ["inspect", "--raw", "--tls-verify=false", ref])).stdout;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A store whose config allows this many tries per request (1: no retries). */
async function storeWithAttempts(attempts?: number): Promise<string> {
  const root = await tempRoot();
  if (attempts !== undefined) {
    await writeFile(
      join(root, "config.yaml"),
      `maxDownloadAttempts: ${attempts}\nmaxUploadAttempts: ${attempts}\n`,
    );
  }
  return root;
}

const peers: [string, () => Promise<Server>][] = [
  ["Berth's registry", () => startBerthRegistry()],
  ["Debian's docker-registry", () => startDistribution()],
];

for (const [peerName, start] of peers) {
  describe(`transfers through a faulty network, in front of ${peerName}`, () => {
    let registry: Server;
    const proxies: FaultProxy[] = [];
    const proxy = async (faults: Faults) => {
      const p = await startFaultProxy(registry.host, faults);
      proxies.push(p);
      return p;
    };
    const appManifest = async () => rawManifest(`oci:${fixtureLayout()}:app-1`);

    before(async () => {
      registry = await start();
      for (const tag of ["app-1", "multi-1"]) {
        await runOk("skopeo", [
          "copy",
          "--all",
          "--insecure-policy",
          "--dest-tls-verify=false",
          `oci:${fixtureLayout()}:${tag}`,
          `docker://${registry.host}/fx/${tag}:v1`,
        ]);
      }
    });
    after(async () => {
      for (const p of proxies) await p.close();
      await registry.stop();
    });

    test("pull succeeds with every blob cut half-way and every manifest first answered 503", async () => {
      const p = await proxy(ALL);
      const root = await storeWithAttempts();
      const r = await berth(root, ["pull", `${p.host}/fx/app-1:v1`]);
      assert.equal(r.code, 0, r.stderr);
      const manifest = JSON.parse(await appManifest()) as { config: { digest: string }; layers: unknown[] };
      assert.ok((p.injected.cutBlob ?? 0) >= 1 + manifest.layers.length, JSON.stringify(p.injected));
      assert.ok((p.injected.manifest503 ?? 0) >= 1, JSON.stringify(p.injected));
      const [image] = JSON.parse(
        (await berthOk(root, ["image", "inspect", `${p.host}/fx/app-1:v1`])).stdout,
      ) as {
        Id: string;
        RepoDigests: string[];
      }[];
      assert.equal(image!.Id, manifest.config.digest);
      const digest = `sha256:${createHash("sha256")
        .update(await appManifest())
        .digest("hex")}`;
      assert.deepEqual(image!.RepoDigests, [`${p.host}/fx/app-1@${digest}`]);
      // The layers are byte for byte the fixture's: the 8 MiB file hashes as the one skopeo reads.
      const layout = fixtureLayout();
      const fixture = JSON.parse(await appManifest()) as { layers: { digest: string }[] };
      const stored = JSON.parse(
        (await berthOk(root, ["image", "inspect", "--format", "{{json .RootFS.Layers}}", image!.Id])).stdout,
      ) as string[];
      assert.equal(stored.length, fixture.layers.length);
      const original = join(layout, "blobs/sha256", fixture.layers[2]!.digest.slice(7));
      assert.equal(
        await sha256File(join(root, "content/blobs/sha256", fixture.layers[2]!.digest.slice(7))),
        await sha256File(original),
      );
    });

    test("push succeeds with every PATCH and PUT of an upload first answered 503, manifest unchanged", async () => {
      const p = await proxy(ALL);
      const root = await storeWithAttempts();
      const loaded = await berthOk(root, ["load", "-i", fixtureLayout()]);
      const appId = (JSON.parse(await appManifest()) as { config: { digest: string } }).config.digest;
      assert.match(loaded.stdout, new RegExp(appId));
      await berthOk(root, ["tag", appId, `${p.host}/pushed/app:v1`]);
      const r = await berth(root, ["push", `${p.host}/pushed/app:v1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((p.injected.patch503 ?? 0) >= 1 && (p.injected.put503 ?? 0) >= 1, JSON.stringify(p.injected));
      assert.equal(await rawManifest(`docker://${registry.host}/pushed/app:v1`), await appManifest());
    });

    test("an upload cut half-way through its PATCH resumes from the registry's offset, or starts over", async () => {
      const p = await proxy({ cutPatch: true });
      const root = await storeWithAttempts();
      await berthOk(root, ["load", "-i", fixtureLayout()]);
      const appId = (JSON.parse(await appManifest()) as { config: { digest: string } }).config.digest;
      await berthOk(root, ["tag", appId, `${p.host}/resumed/app:v1`]);
      const r = await berth(root, ["push", `${p.host}/resumed/app:v1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((p.injected.cutPatch ?? 0) >= 1, JSON.stringify(p.injected));
      assert.ok(
        p.log.some((l) => l.line.startsWith("GET ") && /\/blobs\/uploads\//.test(l.line)),
        "the client asked the registry for the upload's status",
      );
      // Berth's registry keeps what arrived: the upload goes on from there. Distribution
      // forgets an upload whose PATCH broke (404 BLOB_UPLOAD_INVALID): it starts over.
      const resumed = p.log.some((l) => /^PATCH \S+ [1-9]\d*-\d+$/.test(l.line));
      assert.equal(resumed, peerName === "Berth's registry", p.log.map((l) => l.line).join("\n"));
      assert.equal(await rawManifest(`docker://${registry.host}/resumed/app:v1`), await appManifest());
    });

    test("copy of a multi-platform image and a tags list succeed; 429 is retried after its Retry-After", async () => {
      const p = await proxy(ALL);
      const root = await storeWithAttempts();
      const copied = await berth(root, ["copy", `${p.host}/fx/multi-1:v1`, `${p.host}/copied/multi:v1`]);
      assert.equal(copied.code, 0, copied.stderr);
      assert.equal(
        await rawManifest(`docker://${registry.host}/copied/multi:v1`),
        await rawManifest(`oci:${fixtureLayout()}:multi-1`),
      );
      const tags = await berth(root, ["tags", `${p.host}/fx/app-1`]);
      assert.equal(tags.code, 0, tags.stderr);
      assert.equal(tags.stdout, "v1\n");
      const asked = p.log.filter((l) => l.line === "GET /v2/fx/app-1/tags/list");
      assert.equal(asked.length, 2, "asked once, refused with 429, asked again");
      assert.ok(asked[1]!.at - asked[0]!.at >= 900, "the second try waited for Retry-After: 1");
    });

    test("with one attempt per request, each transfer fails with a clear message and records nothing", async () => {
      const p = await proxy(ALL);
      const root = await storeWithAttempts(1);
      const pull = await berth(root, ["pull", `${p.host}/fx/app-1:v1`]);
      assert.equal(pull.code, 1);
      assert.match(pull.stderr, /^Error: manifest \S+\/fx\/app-1:v1: unavailable: injected fault$/m);
      assert.doesNotMatch(pull.stderr, /\n\s+at /, "no stack trace");
      assert.equal((await berthOk(root, ["images", "-q"])).stdout, "");
      const cut = await berth(root, ["pull", `${p.host}/fx/app-1:v1`]);
      assert.equal(cut.code, 1, "the manifest passes now, the blobs are cut");
      assert.match(cut.stderr, /^Error: (layer|image config) sha256:[0-9a-f]{64}: /m);
      const tags = await berth(root, ["tags", `${p.host}/fx/app-1`]);
      assert.equal(tags.code, 1);
      assert.match(tags.stderr, /^Error: tags of \S+\/fx\/app-1: toomanyrequests: injected fault$/m);
      await berthOk(root, ["load", "-i", fixtureLayout()]);
      const appId = (JSON.parse(await appManifest()) as { config: { digest: string } }).config.digest;
      await berthOk(root, ["tag", appId, `${p.host}/refused/app:v1`]);
      const push = await berth(root, ["push", `${p.host}/refused/app:v1`]);
      assert.equal(push.code, 1);
      assert.match(
        push.stderr,
        /^Error: upload of (layer|image config) sha256:[0-9a-f]{64}: unavailable: injected fault$/m,
      );
    });
  });
}
