import { PathNotFoundError, type StorageDriver, type WalkFn } from "../storage/driver.js";
import { layout, RESERVED_DIRS } from "./layout.js";

/**
 * Names of the repositories that hold one of `markers` (_manifests, _layers, _uploads), sorted.
 * A repository's own directories (_layers …) are never entered: nested repositories are beside
 * them, never below.
 */
export async function repositoriesWith(driver: StorageDriver, markers: readonly string[]): Promise<string[]> {
  const root = layout.repositories();
  const found = new Set<string>();
  await walkIfExists(driver, root, (entry) => {
    if (!entry.isDir) return undefined;
    const slash = entry.path.lastIndexOf("/");
    const name = entry.path.slice(slash + 1);
    if (RESERVED_DIRS.has(name)) {
      const repository = entry.path.slice(root.length + 1, slash);
      if (repository !== "" && markers.includes(name)) found.add(repository);
      return "skip";
    }
    // Not a repository name component: nothing to find below.
    return name.startsWith(".") ? "skip" : undefined;
  });
  return [...found].sort();
}

/** A walk of a directory that may not exist (yet): then there is nothing to visit. */
export async function walkIfExists(driver: StorageDriver, path: string, visit: WalkFn): Promise<void> {
  try {
    await driver.walk(path, visit);
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
}
