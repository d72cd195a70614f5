import type { Logger } from "pino";
import { Digest } from "../../oci/digest.js";
import { parseManifest } from "../../oci/manifest.js";
import { deleteIfExists } from "../../storage/absent.js";
import type { StorageDriver } from "../../storage/driver.js";
import { layout } from "../layout.js";
import type { RegistryMetadata } from "../metadata/metadata.js";
import type { BlobService } from "../services/blobs.js";

export interface GcOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun: boolean;
  /** Also delete manifests no tag reaches (never one an index or a live referrer needs). */
  deleteUntagged: boolean;
  /** Nothing used more recently than this is deleted: pushes in flight keep their blobs. */
  graceMs: number;
  /** Wait for another collection to finish instead of failing with GcLockedError. */
  wait: boolean;
  log?: Logger;
}

export interface GcReport {
  dryRun: boolean;
  repositories: number;
  manifests: number;
  links: number;
  blobs: number;
  bytes: number;
  /** Blobs kept because something references them. */
  marked: number;
  /**
   * Upload sessions started before the grace period that are still open: abandoned by their
   * clients, most likely, and left for the upload purge (uploads.maxAge) to remove.
   */
  pendingUploads: number;
}

/** What a manifest's bytes say, by digest (so it cannot change during a run). */
interface ManifestFacts {
  children: string[];
  blobs: string[];
  subject?: string;
}

/**
 * Online garbage collection: mark from every tag (and, unless deleting untagged manifests, every
 * manifest), through index children, configs, layers and referrers of live manifests; then sweep
 * each repository's manifests and links, and the global blobs last. Every removal is conditional
 * on the entry's last use being older than the run's start minus the grace period, and atomic
 * against the use a push makes of it (see GcStore), so nothing a push relies on is
 * deleted and no read-only window is needed.
 */
export async function collectGarbage(
  services: { driver: StorageDriver; metadata: RegistryMetadata; blobs: BlobService },
  options: GcOptions,
): Promise<GcReport> {
  const { metadata, blobs, driver } = services;
  const lock = await metadata.gc.lock(options.wait);
  try {
    const cutoff = new Date(Date.now() - options.graceMs);
    const report: GcReport = {
      dryRun: options.dryRun,
      repositories: 0,
      manifests: 0,
      links: 0,
      blobs: 0,
      bytes: 0,
      marked: 0,
      pendingUploads: 0,
    };
    const facts = new Map<string, ManifestFacts | undefined>();
    const read = async (digest: string): Promise<ManifestFacts | undefined> => {
      if (facts.has(digest)) return facts.get(digest);
      const bytes = await blobs.readSmall(Digest.parse(digest));
      const value = bytes ? manifestFacts(bytes) : undefined;
      facts.set(digest, value);
      return value;
    };
    const liveGlobal = new Set<string>();

    for (const repository of await metadata.gc.repositories()) {
      // Another collection may hold the lock once this one's connection died: stop here.
      lock.lost.throwIfAborted();
      report.repositories++;
      const tags = await metadata.gc.tags(repository);
      const revisions = await metadata.gc.revisions(repository);
      const roots = new Set<string>([...tags.values()].map(String));
      for (const rev of revisions) {
        if (!options.deleteUntagged || rev.lastUsed >= cutoff) roots.add(rev.digest.toString());
      }
      const liveManifests = new Set<string>();
      const liveBlobs = new Set<string>();
      const visit = async (digest: string): Promise<void> => {
        if (liveManifests.has(digest)) return;
        liveManifests.add(digest);
        const f = await read(digest);
        if (!f) return;
        for (const b of f.blobs) liveBlobs.add(b);
        for (const child of f.children) await visit(child);
      };
      for (const root of roots) await visit(root);
      // Referrers of live manifests are live, and may have referrers of their own.
      for (let grew = true; grew; ) {
        grew = false;
        for (const rev of revisions) {
          const digest = rev.digest.toString();
          if (liveManifests.has(digest)) continue;
          const subject = (await read(digest))?.subject;
          if (subject && liveManifests.has(subject)) {
            await visit(digest);
            grew = true;
          }
        }
      }

      for (const rev of revisions) {
        const digest = rev.digest.toString();
        if (liveManifests.has(digest)) continue;
        if (rev.lastUsed >= cutoff) {
          liveManifests.add(digest);
          continue;
        }
        if (options.dryRun || (await metadata.gc.removeRevisionIfUnused(repository, rev.digest, cutoff))) {
          report.manifests++;
          options.log?.info(
            { repository, digest },
            options.dryRun ? "would delete manifest" : "deleted manifest",
          );
        } else {
          liveManifests.add(digest);
        }
      }
      for (const link of await metadata.gc.layerLinks(repository)) {
        const digest = link.digest.toString();
        if (liveBlobs.has(digest)) continue;
        if (
          link.lastUsed < cutoff &&
          (options.dryRun || (await metadata.gc.removeLayerLinkIfUnused(repository, link.digest, cutoff)))
        ) {
          report.links++;
        } else {
          liveBlobs.add(digest);
        }
      }
      for (const d of liveManifests) liveGlobal.add(d);
      for (const d of liveBlobs) liveGlobal.add(d);
    }

    for (const blob of await metadata.gc.blobs()) {
      lock.lost.throwIfAborted();
      const digest = blob.digest.toString();
      if (liveGlobal.has(digest)) {
        report.marked++;
        continue;
      }
      if (blob.lastUsed >= cutoff) continue;
      const freed = options.dryRun
        ? blob.size
        : await metadata.gc.removeBlobIfUnused(blob.digest, cutoff, () =>
            deleteIfExists(driver, layout.blobData(blob.digest)),
          );
      if (freed === undefined) continue;
      report.blobs++;
      report.bytes += freed;
      options.log?.debug({ digest, size: freed }, options.dryRun ? "would delete blob" : "deleted blob");
    }
    report.pendingUploads = (await metadata.uploads.startedBefore(cutoff)).length;
    options.log?.info(
      { ...report },
      options.dryRun ? "garbage collection dry run" : "garbage collection done",
    );
    return report;
  } finally {
    await lock.release();
  }
}

function manifestFacts(bytes: Buffer): ManifestFacts | undefined {
  try {
    const parsed = parseManifest(bytes);
    const refs = parsed.references.map((r) => r.digest);
    // Layers with urls are not in `references` (they live elsewhere), and never stored here.
    return {
      children: parsed.kind === "index" ? refs : [],
      blobs: parsed.kind === "index" ? [] : refs,
      ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
    };
  } catch {
    return undefined;
  }
}
