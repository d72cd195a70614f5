import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Digest, digestOf } from "../../../src/oci/digest.js";
import {
  BackendUnavailableError,
  BlobUnknownError,
  GcLockedError,
  ManifestBlobUnknownError,
  UploadBusyError,
} from "../../../src/registry/domain-errors.js";
import { layout } from "../../../src/registry/layout.js";
import type { RegistryMetadata, RevisionRecord } from "../../../src/registry/metadata/metadata.js";
import { deleteIfExists, exists } from "../../../src/storage/absent.js";
import type { StorageDriver } from "../../../src/storage/driver.js";

export interface MetadataFixture {
  metadata: RegistryMetadata;
  /** Where blobs' bytes go (what commitBlob's `place` writes to). */
  driver: StorageDriver;
  /** Another handle on the same store, as a second replica or a `registry gc` process opens it. */
  open(): Promise<RegistryMetadata>;
  /** Stopping and starting the store's server, for the outage cases. */
  outage?: { kill(): Promise<void>; start(): Promise<void> };
  cleanup(): Promise<void>;
}

/** What a store offers beyond the common contract, and so which further cases apply to it. */
export interface MetadataCapabilities {
  /** An upload lock excludes other handles (not the embedded store's: one process serves a root). */
  uploadLocksAcrossHandles: boolean;
  /** It has SharedSettings. */
  sharedSettings: boolean;
  /** It runs as a server that can die (the fixture's `outage`). */
  outages: boolean;
}

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const ROUNDS = 20;

/**
 * The behaviour every metadata store must show, registered as node:test tests: each test gets a
 * fresh, empty store from `make` (through its RepositoryStore, UploadSessions, GcStore and, when
 * it has them, SharedSettings) and hands it back through `cleanup`.
 */
export function metadataContract(
  name: string,
  make: () => Promise<MetadataFixture>,
  capabilities: MetadataCapabilities,
): void {
  describe(`RegistryMetadata contract: ${name}`, () => {
    let fixture: MetadataFixture | undefined;
    let meta: RegistryMetadata;
    let driver: StorageDriver;

    beforeEach(async () => {
      fixture = await make();
      meta = fixture.metadata;
      driver = fixture.driver;
    });

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    /** Commits bytes as a blob, as an upload's finish or a manifest PUT does. */
    async function blob(bytes: Buffer, store: RegistryMetadata = meta): Promise<Digest> {
      const digest = digestOf(bytes);
      await store.repositories.commitBlob(digest, bytes.length, () =>
        driver.putContent(layout.blobData(digest), bytes),
      );
      return digest;
    }

    /** A blob committed and linked into the repository, as a pushed layer is. */
    async function layer(repository: string, size = 100): Promise<Digest> {
      const digest = await blob(randomBytes(size));
      await meta.repositories.linkBlob(repository, digest);
      return digest;
    }

    /** A manifest's bytes committed as a blob, and its record, as a manifest PUT makes them. */
    async function manifest(
      layers: Digest[],
      options: { subject?: Digest; index?: boolean; store?: RegistryMetadata } = {},
    ): Promise<RevisionRecord> {
      const doc = {
        schemaVersion: 2,
        mediaType: options.index ? INDEX : MANIFEST,
        ...(options.index
          ? { manifests: layers.map((d) => ({ mediaType: MANIFEST, digest: d.toString(), size: 1 })) }
          : { layers: layers.map((d) => ({ mediaType: "application/octet-stream", digest: d.toString() })) }),
        ...(options.subject ? { subject: { mediaType: MANIFEST, digest: options.subject.toString() } } : {}),
        annotations: { nonce: randomUUID() },
      };
      const bytes = Buffer.from(JSON.stringify(doc));
      const digest = await blob(bytes, options.store);
      const record: RevisionRecord = {
        digest,
        mediaType: doc.mediaType,
        size: bytes.length,
        references: layers.map((d) => ({ digest: d, kind: options.index ? "manifest" : "blob" })),
      };
      if (options.subject) {
        record.subject = options.subject;
        record.referrer = { mediaType: doc.mediaType, digest: digest.toString(), size: bytes.length };
      }
      return record;
    }

    const removeData = (digest: Digest) => () => deleteIfExists(driver, layout.blobData(digest));

    describe("RepositoryStore", () => {
      it("a committed blob has a size; a repository sees it only once linked; unlinking takes it away", async () => {
        const bytes = randomBytes(1234);
        const digest = await blob(bytes);
        assert.equal(await meta.repositories.blobSize(digest), 1234);
        assert.equal(await meta.repositories.repositoryBlobSize("team/app", digest), undefined);
        await meta.repositories.linkBlob("team/app", digest);
        assert.equal(await meta.repositories.repositoryBlobSize("team/app", digest), 1234);
        assert.equal(await meta.repositories.repositoryBlobSize("team/other", digest), undefined);
        const other = await fixture!.open();
        assert.equal(await other.repositories.repositoryBlobSize("team/app", digest), 1234);
        assert.equal(await meta.repositories.unlinkBlob("team/app", digest), true);
        assert.equal(await meta.repositories.unlinkBlob("team/app", digest), false);
        assert.equal(await other.repositories.repositoryBlobSize("team/app", digest), undefined);
        assert.equal(await meta.repositories.blobSize(digest), 1234, "the global blob stays");
      });

      it("linking a blob the store does not have is BlobUnknownError", async () => {
        const absent = digestOf(randomBytes(10));
        assert.equal(await meta.repositories.blobSize(absent), undefined);
        await assert.rejects(meta.repositories.linkBlob("app", absent), BlobUnknownError);
        assert.equal(await meta.repositories.repositoryBlobSize("app", absent), undefined);
      });

      it("records a revision and its tag, which another handle reads at once", async () => {
        const l = await layer("app");
        const record = await manifest([l]);
        await meta.repositories.putRevision("app", record, "v1");
        const other = await fixture!.open();
        assert.equal(await other.repositories.revisionExists("app", record.digest), true);
        assert.equal(
          (await other.repositories.resolveTag("app", "v1"))?.toString(),
          record.digest.toString(),
        );
        assert.deepEqual(await other.repositories.listTags("app"), ["v1"]);
        assert.deepEqual(await other.repositories.listRepositories(), ["app"]);
        // By digest: a revision without a tag.
        const untagged = await manifest([l]);
        await other.repositories.putRevision("app", untagged);
        assert.equal(await meta.repositories.revisionExists("app", untagged.digest), true);
        assert.deepEqual(await meta.repositories.listTags("app"), ["v1"]);
      });

      it("a manifest naming a blob or child the repository lacks is refused and stores nothing", async () => {
        const unlinked = await blob(randomBytes(50));
        const absent = digestOf(randomBytes(50));
        const linked = await layer("app");
        for (const missing of [unlinked, absent]) {
          const record = await manifest([linked, missing]);
          await assert.rejects(
            meta.repositories.putRevision("app", record, "bad"),
            (err: unknown) => err instanceof ManifestBlobUnknownError && err.digest === missing.toString(),
          );
          assert.equal(await meta.repositories.revisionExists("app", record.digest), false);
        }
        const child = await manifest([linked]);
        const index = await manifest([child.digest], { index: true });
        await assert.rejects(meta.repositories.putRevision("app", index, "bad"), ManifestBlobUnknownError);
        await meta.repositories.putRevision("app", child);
        await meta.repositories.putRevision("app", index, "multi");
        assert.equal(await meta.repositories.resolveTag("app", "bad"), undefined);
        assert.deepEqual(await meta.repositories.listTags("app"), ["multi"]);
        // A repository whose only push was refused does not exist.
        const elsewhere = await manifest([linked]);
        await assert.rejects(
          meta.repositories.putRevision("empty", elsewhere, "v1"),
          ManifestBlobUnknownError,
        );
        assert.equal(await meta.repositories.listTags("empty"), undefined);
        assert.deepEqual(await meta.repositories.listRepositories(), ["app"]);
      });

      it("tags sort in byte order, move, and delete; an unknown repository has no tag list", async () => {
        const l = await layer("app");
        const a = await manifest([l]);
        const b = await manifest([l]);
        for (const tag of ["latest", "V2", "1.0", "v1", "_x"])
          await meta.repositories.putRevision("app", a, tag);
        assert.deepEqual(await meta.repositories.listTags("app"), ["1.0", "V2", "_x", "latest", "v1"]);
        await meta.repositories.putRevision("app", b, "latest");
        assert.equal((await meta.repositories.resolveTag("app", "latest"))?.toString(), b.digest.toString());
        assert.equal(await meta.repositories.deleteTag("app", "latest"), true);
        assert.equal(await meta.repositories.deleteTag("app", "latest"), false);
        assert.equal(await meta.repositories.resolveTag("app", "latest"), undefined);
        assert.equal(await meta.repositories.revisionExists("app", b.digest), true, "the revision stays");
        assert.equal(await meta.repositories.listTags("nothing/here"), undefined);
        assert.equal(await meta.repositories.resolveTag("nothing/here", "v1"), undefined);
      });

      it("deleting a revision removes every tag naming it and its referrer entry", async () => {
        const l = await layer("app");
        const target = await manifest([l]);
        await meta.repositories.putRevision("app", target, "keep");
        const doomed = await manifest([l]);
        await meta.repositories.putRevision("app", doomed, "a");
        await meta.repositories.putRevision("app", doomed, "b");
        const signature = await manifest([l], { subject: target.digest });
        await meta.repositories.putRevision("app", signature);
        assert.equal((await meta.repositories.listReferrers("app", target.digest)).length, 1);
        assert.equal(await meta.repositories.deleteRevision("app", doomed.digest), true);
        assert.equal(await meta.repositories.deleteRevision("app", doomed.digest), false);
        assert.deepEqual(await meta.repositories.listTags("app"), ["keep"]);
        assert.equal(await meta.repositories.revisionExists("app", doomed.digest), false);
        assert.equal(await meta.repositories.deleteRevision("app", signature.digest), true);
        assert.deepEqual(await meta.repositories.listReferrers("app", target.digest), []);
      });

      it("lists repositories holding manifests, nested names included, sorted", async () => {
        for (const repo of ["b", "a/b/c", "a", "a/b", "Z"]) {
          await meta.repositories.putRevision(repo, await manifest([await layer(repo)]), "v1");
        }
        await layer("only/links");
        await meta.uploads.create("only/uploads", randomUUID());
        assert.deepEqual(await meta.repositories.listRepositories(), ["Z", "a", "a/b", "a/b/c", "b"]);
      });

      it("lists the referrers of a subject: live revisions only, in digest order, per repository", async () => {
        const l = await layer("app");
        const subject = await manifest([l]);
        await meta.repositories.putRevision("app", subject, "v1");
        const refs = [];
        for (let i = 0; i < 3; i++) {
          const r = await manifest([l], { subject: subject.digest });
          await meta.repositories.putRevision("app", r);
          refs.push(r);
        }
        const listed = await meta.repositories.listReferrers("app", subject.digest);
        assert.deepEqual(
          listed.map((d) => d.digest),
          refs.map((r) => r.digest.toString()).sort(),
        );
        assert.equal(listed[0]!.mediaType, MANIFEST);
        assert.deepEqual(await meta.repositories.listReferrers("other", subject.digest), []);
        assert.deepEqual(await meta.repositories.listReferrers("app", l), []);
      });

      it("two writers on one tag: both revisions are stored and the tag names one of them", async () => {
        const other = await fixture!.open();
        const l = await layer("race/tag");
        for (let round = 0; round < ROUNDS; round++) {
          const [a, b] = [await manifest([l]), await manifest([l])];
          const tag = `t${round}`;
          await Promise.all([
            (async () => {
              await sleep(round % 3);
              await meta.repositories.putRevision("race/tag", a, tag);
            })(),
            (async () => {
              await sleep((round + 1) % 3);
              await other.repositories.putRevision("race/tag", b, tag);
            })(),
          ]);
          const winner = (await meta.repositories.resolveTag("race/tag", tag))?.toString();
          assert.ok(winner === a.digest.toString() || winner === b.digest.toString(), `round ${round}`);
          assert.equal((await other.repositories.resolveTag("race/tag", tag))?.toString(), winner);
          assert.equal(await meta.repositories.revisionExists("race/tag", a.digest), true);
          assert.equal(await meta.repositories.revisionExists("race/tag", b.digest), true);
        }
        assert.equal((await meta.repositories.listTags("race/tag"))?.length, ROUNDS);
      });
    });

    describe("UploadSessions", () => {
      it("creates, finds and forgets sessions, on every handle", async () => {
        const uuid = randomUUID();
        const other = await fixture!.open();
        assert.equal(await meta.uploads.exists("app", uuid), false);
        await meta.uploads.create("app", uuid);
        assert.equal(await other.uploads.exists("app", uuid), true);
        assert.equal(await other.uploads.exists("elsewhere", uuid), false);
        await other.uploads.remove("app", uuid);
        assert.equal(await meta.uploads.exists("app", uuid), false);
      });

      it("a session's lock is exclusive until released, and released once", async () => {
        const uuid = randomUUID();
        await meta.uploads.create("app", uuid);
        const held = await meta.uploads.lock("app", uuid);
        assert.equal(held.lost.aborted, false);
        await assert.rejects(meta.uploads.lock("app", uuid), UploadBusyError);
        if (capabilities.uploadLocksAcrossHandles) {
          const other = await fixture!.open();
          await assert.rejects(other.uploads.lock("app", uuid), UploadBusyError);
        }
        const second = randomUUID();
        await meta.uploads.create("app", second);
        const unrelated = await meta.uploads.lock("app", second);
        await held.release();
        await held.release();
        const again = await meta.uploads.lock("app", uuid);
        await again.release();
        await unrelated.release();
      });

      it("lists the sessions started before a time", async () => {
        const uuids = [randomUUID(), randomUUID()];
        for (const uuid of uuids) await meta.uploads.create("team/app", uuid);
        await meta.uploads.create("other", randomUUID());
        assert.deepEqual(await meta.uploads.startedBefore(new Date(Date.now() - 60_000)), []);
        const later = await meta.uploads.startedBefore(new Date(Date.now() + 60_000));
        const mine = later.filter((s) => s.repository === "team/app");
        assert.deepEqual(mine.map((s) => s.uuid).sort(), [...uuids].sort());
        for (const s of later) assert.ok(Math.abs(s.startedAt.getTime() - Date.now()) < 60_000);
        assert.equal(later.length, 3);
      });
    });

    describe("GcStore", () => {
      it("one collection at a time: a second is refused, or waits for the lock", async () => {
        const other = await fixture!.open();
        const first = await meta.gc.lock(false);
        await assert.rejects(other.gc.lock(false), GcLockedError);
        let acquired = false;
        const waiting = other.gc.lock(true).then((lock) => {
          acquired = true;
          return lock;
        });
        await sleep(300);
        assert.equal(acquired, false, "the waiting collection waits");
        await first.release();
        const second = await waiting;
        assert.equal(second.lost.aborted, false);
        await assert.rejects(meta.gc.lock(false), GcLockedError);
        await second.release();
        await (await meta.gc.lock(false)).release();
      });

      it("reads every repository, tag, revision, link and blob with its last use", async () => {
        const before = Date.now() - 60_000;
        const l = await layer("app", 321);
        const record = await manifest([l]);
        await meta.repositories.putRevision("app", record, "v1");
        await layer("links/only");
        await meta.uploads.create("uploads/only", randomUUID());
        assert.deepEqual((await meta.gc.repositories()).sort(), ["app", "links/only", "uploads/only"]);
        const tags = await meta.gc.tags("app");
        assert.deepEqual([...tags.keys()], ["v1"]);
        assert.equal(tags.get("v1")?.toString(), record.digest.toString());
        const revisions = await meta.gc.revisions("app");
        assert.deepEqual(
          revisions.map((r) => r.digest.toString()),
          [record.digest.toString()],
        );
        const links = await meta.gc.layerLinks("app");
        assert.deepEqual(
          links.map((r) => r.digest.toString()),
          [l.toString()],
        );
        const blobs = await meta.gc.blobs();
        const layerBlob = blobs.find((b) => b.digest.equals(l));
        assert.equal(layerBlob?.size, 321);
        assert.ok(blobs.some((b) => b.digest.equals(record.digest)));
        for (const entry of [...revisions, ...links, ...blobs]) {
          assert.ok(entry.lastUsed.getTime() > before && entry.lastUsed.getTime() < Date.now() + 60_000);
        }
      });

      it("conditional deletes keep what was used after the cutoff and remove the rest", async () => {
        const l = await layer("app", 77);
        const record = await manifest([l]);
        await meta.repositories.putRevision("app", record);
        const past = new Date(Date.now() - 60_000);
        assert.equal(await meta.gc.removeRevisionIfUnused("app", record.digest, past), false);
        assert.equal(await meta.gc.removeLayerLinkIfUnused("app", l, past), false);
        assert.equal(await meta.gc.removeBlobIfUnused(l, past, removeData(l)), undefined);
        assert.equal(await meta.repositories.revisionExists("app", record.digest), true);
        assert.equal(await meta.repositories.repositoryBlobSize("app", l), 77);

        const future = new Date(Date.now() + 60_000);
        assert.equal(await meta.gc.removeRevisionIfUnused("app", record.digest, future), true);
        assert.equal(await meta.repositories.revisionExists("app", record.digest), false);
        assert.equal(await meta.gc.removeLayerLinkIfUnused("app", l, future), true);
        assert.equal(await meta.repositories.repositoryBlobSize("app", l), undefined);
        assert.equal(await meta.gc.removeBlobIfUnused(l, future, removeData(l)), 77);
        assert.equal(await meta.repositories.blobSize(l), undefined);
        assert.equal(await exists(driver, layout.blobData(l)), false, "the bytes are gone");
        assert.equal(await meta.gc.removeBlobIfUnused(l, future, removeData(l)), undefined);
        assert.equal(await meta.gc.removeLayerLinkIfUnused("app", l, future), false);
        assert.equal(await meta.gc.removeRevisionIfUnused("app", record.digest, future), false);
      });

      it("a manifest PUT after the cutoff marks what it names used, so the collection keeps it", async () => {
        const l = await layer("app");
        const record = await manifest([l]);
        await sleep(20);
        const cutoff = new Date();
        await sleep(20);
        await meta.repositories.putRevision("app", record, "v1");
        assert.equal(await meta.gc.removeLayerLinkIfUnused("app", l, cutoff), false);
        assert.equal(await meta.gc.removeBlobIfUnused(l, cutoff, removeData(l)), undefined);
        assert.equal(await meta.repositories.repositoryBlobSize("app", l), 100);
        // A mount after the cutoff, too.
        const mounted = await blob(randomBytes(10));
        await sleep(20);
        const later = new Date();
        await sleep(20);
        await meta.repositories.linkBlob("other", mounted);
        assert.equal(await meta.gc.removeBlobIfUnused(mounted, later, removeData(mounted)), undefined);
        assert.equal(await meta.repositories.repositoryBlobSize("other", mounted), 10);
      });

      it("a collection racing a manifest PUT: the PUT keeps every blob it names, or is refused", async (t) => {
        const other = await fixture!.open();
        const outcomes = { stored: 0, refused: 0 };
        for (let round = 0; round < ROUNDS; round++) {
          const repo = "race/gc";
          const l = await layer(repo);
          const record = await manifest([l], { store: other });
          await sleep(15);
          const cutoff = new Date();
          await sleep(5);
          const collect = (async () => {
            await sleep(round % 4);
            if (await meta.gc.removeLayerLinkIfUnused(repo, l, cutoff)) {
              await meta.gc.removeBlobIfUnused(l, cutoff, removeData(l));
            }
          })();
          const put = (async () => {
            await sleep((round * 7) % 4);
            try {
              await other.repositories.putRevision(repo, record, `r${round}`);
              return "stored" as const;
            } catch (err) {
              if (err instanceof ManifestBlobUnknownError) return "refused" as const;
              throw err;
            }
          })();
          const [, outcome] = await Promise.all([collect, put]);
          outcomes[outcome]++;
          if (outcome === "stored") {
            assert.equal(await meta.repositories.revisionExists(repo, record.digest), true);
            assert.equal(
              await meta.repositories.repositoryBlobSize(repo, l),
              100,
              `round ${round}: link kept`,
            );
            assert.equal(await meta.repositories.blobSize(l), 100, `round ${round}: blob kept`);
            assert.equal(await exists(driver, layout.blobData(l)), true, `round ${round}: bytes kept`);
          } else {
            assert.equal(await meta.repositories.revisionExists(repo, record.digest), false);
            assert.equal(await meta.repositories.resolveTag(repo, `r${round}`), undefined);
          }
        }
        assert.equal(outcomes.stored + outcomes.refused, ROUNDS);
        t.diagnostic(`stored ${outcomes.stored}, refused ${outcomes.refused}`);
      });

      it("a collection racing a mount: the mount links a blob that stays, or is told it is gone", async () => {
        const other = await fixture!.open();
        for (let round = 0; round < ROUNDS; round++) {
          const digest = await blob(randomBytes(64));
          await sleep(15);
          const cutoff = new Date();
          await sleep(5);
          const [, linked] = await Promise.all([
            (async () => {
              await sleep(round % 3);
              await meta.gc.removeBlobIfUnused(digest, cutoff, removeData(digest));
            })(),
            (async () => {
              await sleep((round + 1) % 3);
              try {
                await other.repositories.linkBlob("mount", digest);
                return true;
              } catch (err) {
                if (err instanceof BlobUnknownError) return false;
                throw err;
              }
            })(),
          ]);
          if (linked) {
            assert.equal(await meta.repositories.repositoryBlobSize("mount", digest), 64, `round ${round}`);
            assert.equal(await exists(driver, layout.blobData(digest)), true, `round ${round}: bytes kept`);
          } else {
            assert.equal(await meta.repositories.blobSize(digest), undefined, `round ${round}`);
          }
        }
      });
    });

    if (capabilities.sharedSettings) {
      describe("SharedSettings", () => {
        it("the first writer's value wins, on every handle", async () => {
          const other = await fixture!.open();
          const values = await Promise.all([
            meta.settings!.get("key", async () => "from-a"),
            other.settings!.get("key", async () => "from-b"),
          ]);
          assert.equal(values[0], values[1]);
          assert.ok(values[0] === "from-a" || values[0] === "from-b");
          assert.equal(await meta.settings!.get("key", async () => "late"), values[0]);
        });
      });
    } else {
      it("has no SharedSettings (nothing else shares what it stores)", () => {
        assert.equal(meta.settings, undefined);
      });
    }

    if (capabilities.outages) {
      describe("outages", () => {
        it("the store dying while an upload, a collection and a transaction hold connections: locks lost, 503s, recovery by itself", async () => {
          const outage = fixture!.outage!;
          const uuid = randomUUID();
          await meta.uploads.create("app", uuid);
          const upload = await meta.uploads.lock("app", uuid);
          const collection = await meta.gc.lock(false);
          let placed: () => void = () => {};
          const bytes = randomBytes(10);
          const digest = digestOf(bytes);
          // A blob being placed holds a transaction open across the outage.
          const committing = meta.repositories.commitBlob(digest, bytes.length, async () => {
            await new Promise<void>((resolve) => {
              placed = resolve;
            });
            await driver.putContent(layout.blobData(digest), bytes);
          });
          committing.catch(() => {});
          await outage.kill();
          try {
            await eventually(() => upload.lost.aborted && collection.lost.aborted, 20_000);
            placed();
            await assert.rejects(committing, BackendUnavailableError);
            await assert.rejects(meta.repositories.resolveTag("app", "v1"), BackendUnavailableError);
            await assert.rejects(meta.uploads.lock("app", randomUUID()), BackendUnavailableError);
            await assert.rejects(meta.gc.lock(false), BackendUnavailableError);
            await upload.release();
            await collection.release();
          } finally {
            await outage.start();
          }
          await eventuallyAsync(
            async () => (await meta.repositories.listRepositories()) !== undefined,
            30_000,
          );
          assert.equal(await meta.repositories.blobSize(digest), undefined, "the transaction left nothing");
          assert.equal(await meta.uploads.exists("app", uuid), true, "the session survives");
          const again = await meta.uploads.lock("app", uuid);
          await again.release();
          await (await meta.gc.lock(false)).release();
        });
      });
    }
  });
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(50);
  }
}

async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(200);
  }
}
