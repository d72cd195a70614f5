import type { ImageDb } from "../images/db.js";
import { resolveLocalImage } from "../images/resolve.js";
import { familiarName, parseReference } from "../oci/reference.js";
import type { ContainerView } from "./observe.js";
import { formatPorts } from "./ports.js";
import type { ContainerRecord } from "./records.js";

/** Docker's STATUS column: `Up 3 minutes`, `Exited (137) 5 seconds ago`, `Created`, `Restarting (1) …`. */
export function statusText(c: ContainerView, now: number, humanDuration: (ms: number) => string): string {
  const o = c.observed;
  switch (o.state) {
    case "created":
      return "Created";
    case "running":
      return `Up ${humanDuration(now - Date.parse(c.startedAt ?? c.created))}`;
    case "restarting":
      return `Restarting (${o.exitCode}) ${humanDuration(now - Date.parse(o.finishedAt ?? c.created))} ago`;
    case "dead":
      return "Dead";
    default:
      return o.finishedAt
        ? `Exited (${o.exitCode}) ${humanDuration(now - Date.parse(o.finishedAt))} ago`
        : `Exited (${o.exitCode})`;
  }
}

/** The PORTS column: published bindings, then exposed ports nobody published (`8080/tcp`). */
export function portsText(c: ContainerView): string {
  const running = c.observed.state === "running";
  const published = running ? c.settings.ports : [];
  const shown = new Set(published.map((p) => `${p.containerPort}/${p.proto}`));
  const exposed = c.settings.exposedPorts.filter((p) => !shown.has(p));
  return [formatPorts(published), ...exposed].filter(Boolean).join(", ");
}

/** The COMMAND column's text before quoting: the path and its arguments. */
export function commandText(c: ContainerView): string {
  const args = c.settings.init ? c.settings.args : c.settings.args;
  return args.join(" ");
}

/**
 * The IMAGE column: the image as the user named it while that name still means the container's
 * image, else the image ID (moby's refreshImage: the tag was removed or now names another image).
 * Truncated as the docker CLI does unless --no-trunc: an ID to 12 digits, a name to its familiar
 * form with its tag, or without a digest.
 */
export function imageText(
  c: Pick<ContainerRecord, "image" | "imageId">,
  db: ImageDb,
  trunc: boolean,
): string {
  let image = c.image;
  if (image !== c.imageId) {
    try {
      if (resolveLocalImage(db, image).imageId !== c.imageId) image = c.imageId;
    } catch {
      image = c.imageId;
    }
  }
  if (!trunc) return image;
  const short = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);
  if (short(image) === short(c.imageId)) return short(image);
  try {
    const ref = parseReference(image);
    const tagged = /:[^/]*$/.test(image.replace(/@.*$/, ""));
    return tagged ? `${familiarName(ref)}:${ref.tag}` : familiarName(ref);
  } catch {
    return image;
  }
}
