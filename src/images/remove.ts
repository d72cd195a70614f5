import { rm } from "node:fs/promises";
import { BerthError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import { familiarString, parseReference } from "../oci/reference.js";
import type { LocalStore } from "./local-store.js";
import { resolveLocalImage } from "./resolve.js";

export type RemoveEvent = { Untagged: string } | { Deleted: string };

export class ImageConflictError extends BerthError {
  override readonly name = "ImageConflictError";
  override readonly code = "CONFLICT";
}

/**
 * Who uses an image: the runtime's containers. Implemented by src/runtime (images must not
 * import it) and passed in by the CLI, so that an image is never deleted under a container.
 */
export interface ImageUsers {
  containersUsing(imageId: string): { id: string; running: boolean }[];
}

export interface RemoveOptions {
  force?: boolean;
  /** Keep untagged parent images (of builds). */
  noPrune?: boolean;
  users?: ImageUsers;
}

/** Docker's conflicts for an image a container uses (moby daemon/images/image_delete.go). */
function containerConflict(imageId: string, users: ImageUsers | undefined, force: boolean | undefined): void {
  const using = users?.containersUsing(imageId) ?? [];
  const running = using.find((c) => c.running);
  if (running)
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`,
    );
  if (using.length > 0 && !force)
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (must be forced) - image is being used by stopped container ${using[0]!.id.slice(0, 12)}`,
    );
}

function inUse(imageId: string, users: ImageUsers | undefined): boolean {
  return (users?.containersUsing(imageId).length ?? 0) > 0;
}

function shortImageId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

function familiar(repository: string, suffix: string): string {
  return familiarString(parseReference(`${repository}${suffix}`));
}

/**
 * Removes an image reference or an image, deciding between untag and delete as Docker does:
 * a name untags (and deletes the image once nothing else names it); an ID deletes the image
 * and all its names, which needs --force when the names span several repositories.
 */
export async function removeImage(
  store: LocalStore,
  input: string,
  opts: RemoveOptions = {},
): Promise<RemoveEvent[]> {
  const db = store.db;
  const { imageId, reference } = resolveLocalImage(db, input);
  const events: RemoveEvent[] = [];
  const children = db.children(imageId);

  if (reference) {
    const repository = `${reference.registry}/${reference.repository}`;
    const tags = db.tagsOf(imageId);
    const digests = db.repoDigestsOf(imageId);
    if (!opts.force && tags.length + digests.length === 1) {
      const user = opts.users?.containersUsing(imageId)[0];
      if (user)
        throw new ImageConflictError(
          `conflict: unable to remove repository reference "${input}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${shortImageId(imageId)}`,
        );
    }
    db.write(() => {
      if (reference.digest) {
        db.deleteRepoDigest(repository, reference.digest.toString());
        events.push({ Untagged: familiar(repository, `@${reference.digest}`) });
      } else {
        db.untag(repository, reference.tag!);
        events.push({ Untagged: familiar(repository, `:${reference.tag}`) });
        // The last tag of a repository takes that repository's digest references with it.
        const otherTagsHere = tags.some((t) => t.repository === repository && t.tag !== reference.tag);
        if (!otherTagsHere) {
          const remainingTags = tags.filter((t) => !(t.repository === repository && t.tag === reference.tag));
          const remainingDigests = digests.filter((d) => d.repository !== repository);
          if (remainingTags.length === 0 && remainingDigests.length === 0) {
            for (const d of digests.filter((x) => x.repository === repository)) {
              db.deleteRepoDigest(d.repository, d.digest);
              events.push({ Untagged: familiar(d.repository, `@${d.digest}`) });
            }
          }
        }
      }
    });
    if (db.tagsOf(imageId).length > 0 || db.repoDigestsOf(imageId).length > 0) return events;
    if (children.length > 0) return events;
    // Untagged, but a container still needs it: it stays (dangling) with its layers.
    if (inUse(imageId, opts.users)) return events;
    events.push(...(await deleteImageAndLayers(store, imageId, opts)));
    return events;
  }

  const tags = db.tagsOf(imageId);
  const digests = db.repoDigestsOf(imageId);
  if (children.length > 0) {
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (cannot be forced) - image has dependent child images`,
    );
  }
  containerConflict(imageId, opts.users, opts.force);
  const repositories = new Set([...tags.map((t) => t.repository), ...digests.map((d) => d.repository)]);
  if (repositories.size > 1 && !opts.force) {
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (must be forced) - image is referenced in multiple repositories`,
    );
  }
  db.write(() => {
    for (const t of tags) {
      db.untag(t.repository, t.tag);
      events.push({ Untagged: familiar(t.repository, `:${t.tag}`) });
    }
    for (const d of digests) {
      db.deleteRepoDigest(d.repository, d.digest);
      events.push({ Untagged: familiar(d.repository, `@${d.digest}`) });
    }
  });
  // -f on an image a stopped container uses untags it; its layers stay for the container.
  if (inUse(imageId, opts.users)) return events;
  events.push(...(await deleteImageAndLayers(store, imageId, opts)));
  return events;
}

/** Deletes an image record, then every layer and blob nothing references any more. */
async function deleteImageAndLayers(
  store: LocalStore,
  imageId: string,
  opts: RemoveOptions,
): Promise<RemoveEvent[]> {
  const db = store.db;
  const events: RemoveEvent[] = [{ Deleted: imageId }];
  const image = db.image(imageId);
  const manifests = db.manifestsOf(imageId);
  // Checked in the deleting transaction: a container created meanwhile (in its own) is seen.
  db.write(() => {
    if (inUse(imageId, opts.users))
      throw new ImageConflictError(
        `conflict: unable to delete ${shortImageId(imageId)} - image is being used by a container`,
      );
    db.deleteImage(imageId);
  });
  events.push(...(await collectGarbage(store)));
  await store.content.delete(Digest.parse(imageId));
  for (const m of manifests) {
    db.write(() => db.deleteManifest(m.digest));
    await store.content.delete(Digest.parse(m.digest));
  }
  if (!opts.noPrune && image?.parent) {
    const parent = image.parent;
    if (
      db.image(parent) &&
      db.tagsOf(parent).length === 0 &&
      db.children(parent).length === 0 &&
      !inUse(parent, opts.users)
    ) {
      events.push(...(await deleteImageAndLayers(store, parent, opts)));
    }
  }
  return events;
}

/** Removes unpacked layers and compressed blobs that no image references. */
export async function collectGarbage(store: LocalStore): Promise<RemoveEvent[]> {
  const db = store.db;
  const events: RemoveEvent[] = [];
  // Top layers first, so a layer goes after the ones stacked on it (Docker lists them that way).
  const unreferenced = db.unreferencedLayers().reverse();
  for (const layer of unreferenced) {
    db.write(() => db.deleteLayer(layer.chainId));
    await rm(store.layerDir(layer.chainId), { recursive: true, force: true });
    events.push({ Deleted: layer.chainId });
  }
  for (const blob of db.orphanLayerBlobs()) {
    db.write(() => db.deleteLayerBlob(blob.digest));
    await store.content.delete(Digest.parse(blob.digest));
  }
  return events;
}

/**
 * `image prune`: removes dangling images (untagged and no child), or with `all` every image no
 * container uses. Returns what was removed and the bytes of layers freed.
 */
export async function pruneImages(
  store: LocalStore,
  opts: { all?: boolean; users?: ImageUsers } = {},
): Promise<{ events: RemoveEvent[]; reclaimed: number }> {
  const db = store.db;
  const events: RemoveEvent[] = [];
  const layerSizes = new Map<string, number>();
  for (const image of db.images())
    for (const l of db.imageLayers(image.id)) layerSizes.set(l.chainId, l.size);
  let changed = true;
  while (changed) {
    changed = false;
    for (const image of db.images()) {
      if (db.children(image.id).length > 0) continue;
      if (inUse(image.id, opts.users)) continue;
      const named = db.tagsOf(image.id).length > 0 || db.repoDigestsOf(image.id).length > 0;
      if (named && !opts.all) continue;
      db.write(() => {
        for (const t of db.tagsOf(image.id)) {
          db.untag(t.repository, t.tag);
          events.push({ Untagged: familiar(t.repository, `:${t.tag}`) });
        }
        for (const d of db.repoDigestsOf(image.id)) {
          db.deleteRepoDigest(d.repository, d.digest);
          events.push({ Untagged: familiar(d.repository, `@${d.digest}`) });
        }
      });
      events.push(...(await deleteImageAndLayers(store, image.id, { noPrune: true, users: opts.users })));
      changed = true;
    }
  }
  let reclaimed = 0;
  for (const e of events) if ("Deleted" in e) reclaimed += layerSizes.get(e.Deleted) ?? 0;
  return { events, reclaimed };
}
