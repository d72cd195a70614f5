import { BerthError } from "../errors.js";
import { familiarString, parseReference } from "../oci/reference.js";
import { collectGarbage } from "./gc.js";
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

/**
 * Docker's conflicts for deleting an image by ID, in its order (moby daemon/images/image_delete.go
 * checkImageDeleteConflict): a running container (never forced), then without --force names in
 * several repositories (`multipleNames`), then a stopped container.
 */
function deleteConflict(
  imageId: string,
  users: ImageUsers | undefined,
  force: boolean | undefined,
  multipleNames: boolean,
): void {
  const using = users?.containersUsing(imageId) ?? [];
  const running = using.find((c) => c.running);
  if (running)
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`,
    );
  if (multipleNames && !force)
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (must be forced) - image is referenced in multiple repositories`,
    );
  if (using.length > 0 && !force)
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (must be forced) - image is being used by stopped container ${using[0]!.id.slice(0, 12)}`,
    );
}

/**
 * Whether an image's names are, to Docker, one reference (moby's isSingleReference): at most one
 * tag, and digests only of that tag's repository (or of one repository when there is no tag).
 * Untagging such a name would leave the image dangling, so a container using it refuses that.
 */
export function isSingleReference(
  tags: readonly { repository: string }[],
  digests: readonly { repository: string }[],
): boolean {
  if (tags.length > 1) return false;
  const repositories = new Set(digests.map((d) => d.repository));
  if (tags.length === 0) return repositories.size === 1;
  return [...repositories].every((r) => r === tags[0]!.repository);
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
 * Removes an image reference or an image, deciding between untag and delete as Docker does
 * (moby's daemon/images/image_delete.go): a name untags, and when the last tag of a repository
 * goes, that repository's digest references go with it; the image is deleted once nothing
 * names it. An ID deletes the image and all its names, which needs --force unless they are one
 * reference (isSingleReference). A name a container's image is known by only is not untagged
 * without --force.
 */
export async function removeImage(
  store: LocalStore,
  input: string,
  opts: RemoveOptions = {},
): Promise<RemoveEvent[]> {
  const db = store.db;
  const { imageId, reference } = resolveLocalImage(db, input);
  const events: RemoveEvent[] = [];

  if (reference) {
    const repository = `${reference.registry}/${reference.repository}`;
    if (!opts.force && isSingleReference(db.tagsOf(imageId), db.repoDigestsOf(imageId))) {
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
        return;
      }
      db.untag(repository, reference.tag!);
      events.push({ Untagged: familiar(repository, `:${reference.tag}`) });
      if (db.tagsOf(imageId).some((t) => t.repository === repository)) return;
      for (const d of db.repoDigestsOf(imageId).filter((x) => x.repository === repository)) {
        db.deleteRepoDigest(d.repository, d.digest);
        events.push({ Untagged: familiar(d.repository, `@${d.digest}`) });
      }
    });
    if (db.tagsOf(imageId).length > 0 || db.repoDigestsOf(imageId).length > 0) return events;
    if (db.children(imageId).length > 0) return events;
    // Untagged, but a container still needs it: it stays (dangling) with its layers.
    if (inUse(imageId, opts.users)) return events;
    events.push(...(await deleteImage(store, imageId, opts)));
    return events;
  }

  const tags = db.tagsOf(imageId);
  const digests = db.repoDigestsOf(imageId);
  if (db.children(imageId).length > 0) {
    throw new ImageConflictError(
      `conflict: unable to delete ${shortImageId(imageId)} (cannot be forced) - image has dependent child images`,
    );
  }
  deleteConflict(
    imageId,
    opts.users,
    opts.force,
    tags.length + digests.length > 0 && !isSingleReference(tags, digests),
  );
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
  events.push(...(await deleteImage(store, imageId, opts)));
  return events;
}

/** Deletes an image record (and, unless told not to, its untagged parents), then what nothing needs any more. */
async function deleteImage(store: LocalStore, imageId: string, opts: RemoveOptions): Promise<RemoveEvent[]> {
  const db = store.db;
  const events: RemoveEvent[] = [];
  let id: string | undefined = imageId;
  while (id !== undefined) {
    const parent: string | null = db.image(id)?.parent ?? null;
    const doomed = id;
    // Checked in the deleting transaction: a container created meanwhile (in its own) is seen.
    db.write(() => {
      if (inUse(doomed, opts.users))
        throw new ImageConflictError(
          `conflict: unable to delete ${shortImageId(doomed)} - image is being used by a container`,
        );
      db.deleteImage(doomed);
    });
    events.push({ Deleted: id });
    id = undefined;
    if (!opts.noPrune && parent !== null && isDanglingParent(store, parent) && !inUse(parent, opts.users))
      id = parent;
  }
  const collected = await collectGarbage(store);
  for (const layer of collected.layers) events.push({ Deleted: layer });
  return events;
}

function isDanglingParent(store: LocalStore, id: string): boolean {
  const db = store.db;
  return db.image(id) !== undefined && db.tagsOf(id).length === 0 && db.children(id).length === 0;
}

/**
 * `image prune`: removes dangling images (untagged and no child), or with `all` every image
 * nothing else uses (no child image, no container), then everything no image needs any more: unpacked layers and blobs left
 * by failed or interrupted pulls included. Returns what was removed and the bytes of layers freed.
 */
export async function pruneImages(
  store: LocalStore,
  opts: { all?: boolean; users?: ImageUsers } = {},
): Promise<{ events: RemoveEvent[]; reclaimed: number }> {
  const db = store.db;
  const events: RemoveEvent[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const image of db.images()) {
      if (db.children(image.id).length > 0) continue;
      // An image a container was made from stays, as Docker's prune keeps it.
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
        db.deleteImage(image.id);
      });
      events.push({ Deleted: image.id });
      changed = true;
    }
  }
  const collected = await collectGarbage(store);
  for (const layer of collected.layers) events.push({ Deleted: layer });
  return { events, reclaimed: collected.reclaimed };
}
