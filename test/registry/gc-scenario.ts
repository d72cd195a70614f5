import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  call,
  errorCode,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  pushBlob,
  putManifest,
  sha256,
} from "./api-client.js";

/**
 * Garbage-collection scenarios shared by the filesystem setup (gc.test.ts) and the scaled one
 * (test/interop/registry-cluster.test.ts): a registry at `base` and a way to run `berth registry gc`.
 */
export interface GcHarness {
  /** Where to push and read; for the cluster, a list of replicas to spread requests over. */
  bases: string[];
  runGc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

interface Image {
  configSize: number;
  manifest: Buffer;
  digest: string;
  config: string;
  layers: string[];
}

async function pushImage(base: string, repo: string, seed: string, layers: Buffer[], extra: object = {}) {
  const configBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const config = await pushBlob(base, repo, configBytes);
  const layerDigests: string[] = [];
  for (const layer of layers) layerDigests.push(await pushBlob(base, repo, layer));
  const manifest = imageManifest(config, configBytes.length, layers, extra);
  return { manifest, digest: sha256(manifest), config, layers: layerDigests, configSize: configBytes.length };
}

function imageManifest(config: string, configSize: number, layers: Buffer[], extra: object = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config, size: configSize },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: sha256(l), size: l.length })),
      ...extra,
    }),
  );
}

function freedBytes(stdout: string): number {
  const m = /\((\d+) bytes\)/.exec(stdout);
  assert.ok(m, `no byte count in gc output: ${stdout}`);
  return Number(m[1]);
}

export async function gcCorrectness(h: GcHarness, prefix: string): Promise<void> {
  const at = (i: number) => h.bases[i % h.bases.length]!;
  const repoA = `${prefix}/a`;
  const repoB = `${prefix}/b`;
  const repoC = `${prefix}/c`;
  const shared = randomBytes(3000);
  const onlyA = randomBytes(2000);
  const img1 = await pushImage(at(0), repoA, "one", [shared, onlyA]);
  assert.equal((await putManifest(at(1), repoA, "v1", img1.manifest)).status, 201);
  const img2 = await pushImage(at(1), repoB, "two", [shared, randomBytes(1000)]);
  assert.equal((await putManifest(at(0), repoB, "v1", img2.manifest)).status, 201);
  const orphan = randomBytes(5000);
  const orphanDigest = await pushBlob(at(0), repoA, orphan);
  // An untagged image, and a referrer of it: both garbage only with --delete-untagged.
  const layer3 = randomBytes(4000);
  const img3 = await pushImage(at(1), repoA, "three", [layer3]);
  assert.equal((await putManifest(at(0), repoA, img3.digest, img3.manifest)).status, 201);
  const emptyConfig = await pushBlob(at(0), repoA, "{}");
  const referrerOf = (subject: Image | typeof img1, note: string) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.example.sig",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyConfig, size: 2 },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
        annotations: { note },
      }),
    );
  const sig1 = referrerOf(img1, "signs a tagged image");
  const sig3 = referrerOf(img3, "signs an untagged image");
  assert.equal((await putManifest(at(1), repoA, sha256(sig1), sig1)).status, 201);
  assert.equal((await putManifest(at(0), repoA, sha256(sig3), sig3)).status, 201);
  // A tagged index whose children are pushed by digest only: they live as long as the index.
  const childLayers = [randomBytes(1500), randomBytes(1600)];
  const children: Image[] = [];
  for (const [i, layer] of childLayers.entries()) {
    const child = await pushImage(at(i), repoC, `child${i}`, [layer]);
    assert.equal((await putManifest(at(i + 1), repoC, child.digest, child.manifest)).status, 201);
    children.push(child);
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c, i) => ({
        mediaType: OCI_MANIFEST,
        digest: c.digest,
        size: c.manifest.length,
        platform: { os: "linux", architecture: i === 0 ? "amd64" : "arm64" },
      })),
    }),
  );
  assert.equal((await putManifest(at(0), repoC, "multi", index, OCI_INDEX)).status, 201);

  const live = async () => {
    for (const [repo, ref] of [
      [repoA, "v1"],
      [repoB, "v1"],
      [repoC, "multi"],
      [repoA, sha256(sig1)],
      ...children.map((c) => [repoC, c.digest]),
    ] as const) {
      const res = await call(at(1), "GET", `/v2/${repo}/manifests/${ref}`, {
        headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` },
      });
      assert.equal(res.status, 200, `${repo}:${ref} stays`);
    }
    for (const [repo, blob] of [
      [repoA, img1.config],
      [repoA, sha256(shared)],
      [repoA, sha256(onlyA)],
      [repoB, sha256(shared)],
      [repoB, img2.layers[1]!],
      [repoA, emptyConfig],
      ...children.flatMap((c) => [
        [repoC, c.config],
        [repoC, c.layers[0]!],
      ]),
    ] as const) {
      const res = await call(at(0), "GET", `/v2/${repo}/blobs/${blob}`);
      assert.equal(res.status, 200, `${repo}@${blob} stays`);
      assert.equal(sha256(res.body), blob, "and is intact");
    }
  };

  // Fresh things are inside the default grace period (1h): nothing goes.
  const graceful = await h.runGc([]);
  assert.equal(graceful.code, 0, graceful.stderr);
  assert.equal(freedBytes(graceful.stdout), 0);
  assert.equal((await call(at(0), "HEAD", `/v2/${repoA}/blobs/${orphanDigest}`)).status, 200);

  const dry = await h.runGc(["--grace", "0", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would delete 0 manifests, 1 repository links and 1 blobs/);
  assert.equal(freedBytes(dry.stdout), orphan.length);
  assert.equal(
    (await call(at(1), "HEAD", `/v2/${repoA}/blobs/${orphanDigest}`)).status,
    200,
    "a dry run deletes nothing",
  );

  const first = await h.runGc(["--grace", "0"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /deleted 0 manifests, 1 repository links and 1 blobs/);
  assert.equal(freedBytes(first.stdout), orphan.length);
  const gone = await call(at(1), "GET", `/v2/${repoA}/blobs/${orphanDigest}`);
  assert.equal(gone.status, 404);
  assert.equal(errorCode(gone), "BLOB_UNKNOWN");
  // Untagged manifests stay without --delete-untagged.
  assert.equal((await call(at(0), "GET", `/v2/${repoA}/manifests/${img3.digest}`)).status, 200);
  await live();

  const second = await h.runGc(["--grace", "0", "--delete-untagged"]);
  assert.equal(second.code, 0, second.stderr);
  // img3 and the referrer of it; img3's config and layer (links and blobs); both manifests' bytes.
  assert.match(second.stdout, /deleted 2 manifests, 2 repository links and 4 blobs/);
  assert.equal(
    freedBytes(second.stdout),
    img3.manifest.length + sig3.length + img3.configSize + layer3.length,
  );
  assert.equal((await call(at(0), "GET", `/v2/${repoA}/manifests/${img3.digest}`)).status, 404);
  assert.equal((await call(at(1), "GET", `/v2/${repoA}/manifests/${sha256(sig3)}`)).status, 404);
  assert.equal((await call(at(0), "GET", `/v2/${repoA}/blobs/${sha256(layer3)}`)).status, 404);
  const referrers = await call(at(1), "GET", `/v2/${repoA}/referrers/${img1.digest}`);
  assert.deepEqual(
    referrers.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest),
    [sha256(sig1)],
  );
  await live();

  // A deleted tag makes its image garbage; a blob deleted from one repository stays for the other.
  assert.equal((await call(at(0), "DELETE", `/v2/${repoB}/manifests/${img2.digest}`)).status, 202);
  const third = await h.runGc(["--grace", "0", "--delete-untagged"]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /deleted 0 manifests, 3 repository links and 3 blobs/);
  assert.equal((await call(at(1), "GET", `/v2/${repoB}/blobs/${sha256(shared)}`)).status, 404);
  const sharedInA = await call(at(0), "GET", `/v2/${repoA}/blobs/${sha256(shared)}`);
  assert.equal(sharedInA.status, 200, "the layer img1 shares stays");
  assert.ok(sharedInA.body.equals(shared));
}

/** Two collections at once: the second exits with a clear message, or waits with --wait. */
export async function gcExclusive(h: GcHarness, holdLock: () => Promise<() => Promise<void>>): Promise<void> {
  const release = await holdLock();
  const refused = await h.runGc(["--grace", "0"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /another garbage collection is running/);
  const waiting = h.runGc(["--grace", "0", "--wait"]);
  await new Promise((r) => setTimeout(r, 1500));
  await release();
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /deleted \d+ manifests/);
}

/**
 * Pushes while collections run back to back with a short grace period and --delete-untagged:
 * every round deletes the previous image and pushes a new one that reuses an old layer without
 * uploading it again (so only the manifest PUT's use of it protects it), until the collector ran
 * three times. A PUT that loses the race
 * is told MANIFEST_BLOB_UNKNOWN and re-pushes, as clients do. At the end every tag pulls and
 * every blob verifies, and the collections did delete things.
 */
export async function gcUnderPushes(h: GcHarness, prefix: string, rounds: number): Promise<void> {
  const at = (i: number) => h.bases[i % h.bases.length]!;
  const repo = `${prefix}/busy`;
  const shared = randomBytes(64 * 1024);
  await pushBlob(at(0), repo, shared);
  let stop = false;
  let freed = 0;
  let runs = 0;
  const loop = (async () => {
    while (!stop) {
      const r = await h.runGc(["--grace", "1s", "--delete-untagged", "--wait"]);
      assert.equal(r.code, 0, r.stderr);
      freed += freedBytes(r.stdout);
      runs++;
    }
  })();
  const kept: { tag: string; digest: string; blobs: string[] }[] = [];
  let previous: string | undefined;
  try {
    // At least `rounds` rounds, and on until the collector has run three times (a loaded machine
    // starts processes slowly), within a bound.
    for (let i = 0; i < rounds * 5 && (i < rounds || runs < 3); i++) {
      const base = at(i);
      const unique = randomBytes(16 * 1024 + i);
      const configBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", round: i }));
      const manifest = imageManifest(sha256(configBytes), configBytes.length, [shared, unique]);
      for (let attempt = 0; ; attempt++) {
        for (const blob of [configBytes, unique, shared]) {
          if ((await call(base, "HEAD", `/v2/${repo}/blobs/${sha256(blob)}`)).status !== 200) {
            await pushBlob(base, repo, blob);
          }
        }
        const put = await putManifest(at(i + 1), repo, `r${i}`, manifest);
        if (put.status === 201) break;
        assert.equal(errorCode(put), "MANIFEST_BLOB_UNKNOWN", put.body.toString());
        assert.ok(attempt < 5, "a push keeps losing to the collector");
      }
      if (previous && i % 3 !== 0) {
        assert.equal((await call(base, "DELETE", `/v2/${repo}/manifests/${previous}`)).status, 202);
        kept.pop();
      }
      previous = sha256(manifest);
      kept.push({
        tag: `r${i}`,
        digest: previous,
        blobs: [sha256(configBytes), sha256(unique), sha256(shared)],
      });
      // Let the previous image age past the grace period now and then, so there is garbage.
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1100));
    }
  } finally {
    stop = true;
    await loop;
  }
  assert.ok(runs >= 3, `the collector ran ${runs} times`);
  assert.ok(freed > 0, "the collections freed something while pushes ran");
  const final = await h.runGc(["--grace", "0", "--delete-untagged", "--wait"]);
  assert.equal(final.code, 0, final.stderr);
  for (const { tag, digest, blobs } of kept) {
    const res = await call(at(1), "GET", `/v2/${repo}/manifests/${tag}`, {
      headers: { Accept: OCI_MANIFEST },
    });
    assert.equal(res.status, 200, `tag ${tag} pulls`);
    assert.equal(sha256(res.body), digest);
    for (const blob of blobs) {
      const b = await call(at(0), "GET", `/v2/${repo}/blobs/${blob}`);
      assert.equal(b.status, 200, `blob ${blob} of ${tag}`);
      assert.equal(`sha256:${createHash("sha256").update(b.body).digest("hex")}`, blob);
    }
  }
}
