import { BerthError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import { parseImageConfig } from "../oci/manifest.js";
import { familiarName, parseReference } from "../oci/reference.js";
import type { ImageRecord } from "./db.js";
import type { LocalStore } from "./local-store.js";
import { resolveLocalImage } from "./resolve.js";

/** One row of `images`: an image under one of its names (or <none>). */
export interface ImageRow {
  image: ImageRecord;
  repository: string;
  tag: string;
  digest: string;
}

export interface ImageFilters {
  dangling?: boolean;
  reference?: string[];
  before?: string;
  since?: string;
  label?: string[];
}

export class InvalidFilterError extends BerthError {
  override readonly name = "InvalidFilterError";
  override readonly code = "INVALID_FILTER";
}

/** Parses docker's `--filter key=value` flags for images. */
export function parseImageFilters(flags: string[]): ImageFilters {
  const out: ImageFilters = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq < 0) throw new InvalidFilterError(`bad format of filter (expected name=value)`);
    const key = flag.slice(0, eq).toLowerCase();
    const value = flag.slice(eq + 1);
    switch (key) {
      case "dangling":
        if (!["true", "false", "1", "0"].includes(value.toLowerCase())) {
          throw new InvalidFilterError(`Invalid filter 'dangling=${value}'`);
        }
        out.dangling = value === "true" || value === "1";
        break;
      case "reference":
        out.reference = [...(out.reference ?? []), value];
        break;
      case "before":
        out.before = value;
        break;
      case "since":
        out.since = value;
        break;
      case "label":
        out.label = [...(out.label ?? []), value];
        break;
      default:
        throw new InvalidFilterError(`invalid filter '${key}'`);
    }
  }
  return out;
}

/**
 * The rows `images` shows: an image once per tag, or once as <none>:<none> when untagged;
 * intermediate images (untagged parents of other images) only with `all`.
 */
export async function listImages(
  store: LocalStore,
  opts: { all?: boolean; digests?: boolean; filters?: ImageFilters } = {},
): Promise<ImageRow[]> {
  const db = store.db;
  const f = opts.filters ?? {};
  const images = db.images();
  const tagsByImage = groupBy(db.allTags(), (t) => t.imageId);
  const digestsByImage = groupBy(db.allRepoDigests(), (d) => d.imageId);
  const parents = new Set(images.map((i) => i.parent).filter((p): p is string => p !== null));
  const before = f.before ? createdOf(store, f.before) : undefined;
  const since = f.since ? createdOf(store, f.since) : undefined;

  const rows: ImageRow[] = [];
  for (const image of images) {
    const tags = tagsByImage.get(image.id) ?? [];
    const digests = digestsByImage.get(image.id) ?? [];
    const untagged = tags.length === 0;
    if (untagged && parents.has(image.id) && !opts.all && f.dangling === undefined) continue;
    if (f.dangling !== undefined && f.dangling !== (untagged && !parents.has(image.id))) continue;
    const created = Date.parse(image.created ?? "") || 0;
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (f.label && !(await labelsMatch(store, image.id, f.label))) continue;

    const named = rowsOf(image, tags, digests, opts.digests ?? false);
    for (const row of named) {
      if (f.reference && !f.reference.some((pattern) => referenceMatches(pattern, row))) continue;
      rows.push(row);
    }
  }
  return rows.sort(
    (a, b) => (Date.parse(b.image.created ?? "") || 0) - (Date.parse(a.image.created ?? "") || 0),
  );
}

/**
 * An image's rows as the docker CLI makes them (formatter/image.go): per repository, a row per
 * tag, or with --digests a row per tag and digest pair; a repository known only by digest gets
 * one <none> row (one per digest with --digests); an image without names one <none>:<none> row.
 */
function rowsOf(
  image: ImageRecord,
  tags: { repository: string; tag: string }[],
  digests: { repository: string; digest: string }[],
  showDigests: boolean,
): ImageRow[] {
  if (tags.length === 0 && digests.length === 0) {
    return [{ image, repository: "<none>", tag: "<none>", digest: "<none>" }];
  }
  const rows: ImageRow[] = [];
  const tagged = new Set(tags.map((t) => t.repository));
  for (const t of tags) {
    const own = showDigests ? digests.filter((d) => d.repository === t.repository) : [];
    if (own.length === 0)
      rows.push({ image, repository: familiar(t.repository), tag: t.tag, digest: "<none>" });
    for (const d of own)
      rows.push({ image, repository: familiar(t.repository), tag: t.tag, digest: d.digest });
  }
  const digestOnly = [...new Set(digests.map((d) => d.repository))].filter((r) => !tagged.has(r));
  for (const repository of digestOnly) {
    if (!showDigests) {
      rows.push({ image, repository: familiar(repository), tag: "<none>", digest: "" });
      continue;
    }
    for (const d of digests.filter((x) => x.repository === repository)) {
      rows.push({ image, repository: familiar(repository), tag: "<none>", digest: d.digest });
    }
  }
  return rows;
}

function familiar(repository: string): string {
  return familiarName(parseReference(repository));
}

function createdOf(store: LocalStore, input: string): number {
  const { imageId } = resolveLocalImage(store.db, input);
  return Date.parse(store.db.image(imageId)?.created ?? "") || 0;
}

async function labelsMatch(store: LocalStore, imageId: string, wanted: string[]): Promise<boolean> {
  const config = parseImageConfig(await store.content.readAll(Digest.parse(imageId)));
  const labels = config.config?.Labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** Docker's reference filter: a glob (path.Match) against "name" and "name:tag". */
function referenceMatches(pattern: string, row: ImageRow): boolean {
  if (row.repository === "<none>") return false;
  const re = globToRegExp(pattern);
  return re.test(row.repository) || re.test(`${row.repository}:${row.tag}`);
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
