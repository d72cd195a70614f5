import type { LocalStore } from "../images/local-store.js";
import type { ImageUsers } from "../images/remove.js";
import { observe } from "./observe.js";
import { ContainerPaths } from "./paths.js";
import { ContainerDb, imagesWithContainers } from "./records.js";

/** The containers of a store as users of its images, for rmi and image prune. */
export function imageUsers(store: LocalStore): ImageUsers {
  const db = new ContainerDb(store.db.connection);
  return {
    containersUsing(imageId) {
      return db.usingImage(imageId).map((rec) => {
        const state = observe(rec, new ContainerPaths(store.root, rec.id)).state;
        return { id: rec.id, running: state === "running" || state === "restarting" };
      });
    },
  };
}

/** IDs of the images that containers (in any state) were created from: `system df`'s active images. */
export function imagesInUse(store: LocalStore): Set<string> {
  return imagesWithContainers(store.db.connection);
}
