import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BerthError, InvalidArgumentError } from "../errors.js";
import type { Descriptor } from "../oci/descriptor.js";
import { formatReference, parseReference } from "../oci/reference.js";

/** One image of a manifest list being prepared locally (docker manifest create/annotate). */
export interface ListEntry {
  /** The image's full reference, as given to create. */
  ref: string;
  descriptor: Descriptor;
}

export class NoSuchManifestListError extends BerthError {
  override readonly name = "NoSuchManifestListError";
  constructor(readonly list: string) {
    super(`No such manifest: ${list}`);
  }
}

/**
 * Manifest lists being prepared before `manifest push`, kept as Docker keeps them: a directory
 * per list under ROOT/manifests, a JSON file per image, each written atomically.
 */
export class ManifestLists {
  constructor(private readonly root: string) {}

  private dir(list: string): string {
    return join(this.root, "manifests", fileName(formatReference(parseReference(list))));
  }

  async exists(list: string): Promise<boolean> {
    return (await this.entries(list).catch(() => [])).length > 0;
  }

  async create(list: string, entries: ListEntry[], amend: boolean): Promise<void> {
    const dir = this.dir(list);
    if (!amend && (await this.exists(list))) {
      throw new InvalidArgumentError(`refusing to amend an existing manifest list with no --amend flag`);
    }
    await mkdir(dir, { recursive: true });
    for (const entry of entries) await this.put(list, entry);
  }

  async put(list: string, entry: ListEntry): Promise<void> {
    const dir = this.dir(list);
    await mkdir(dir, { recursive: true });
    const file = join(dir, fileName(entry.ref));
    await writeFile(`${file}.tmp`, JSON.stringify(entry));
    await rename(`${file}.tmp`, file);
  }

  async entries(list: string): Promise<ListEntry[]> {
    const dir = this.dir(list);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      throw new NoSuchManifestListError(list);
    }
    const out: ListEntry[] = [];
    for (const name of names.filter((n) => !n.endsWith(".tmp")).sort()) {
      out.push(JSON.parse(await readFile(join(dir, name), "utf8")) as ListEntry);
    }
    if (out.length === 0) throw new NoSuchManifestListError(list);
    return out;
  }

  async remove(list: string): Promise<void> {
    await rm(this.dir(list), { recursive: true, force: true });
  }
}

function fileName(s: string): string {
  return encodeURIComponent(s);
}
