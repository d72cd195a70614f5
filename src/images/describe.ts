import { Digest } from "../oci/digest.js";
import { type ImageConfig, parseImageConfig } from "../oci/manifest.js";
import { familiarString, parseReference } from "../oci/reference.js";
import type { ImageRecord } from "./db.js";
import type { LocalStore } from "./local-store.js";

export function familiarTag(repository: string, tag: string): string {
  return familiarString(parseReference(`${repository}:${tag}`));
}

export function familiarDigest(repository: string, digest: string): string {
  return familiarString(parseReference(`${repository}@${digest}`));
}

export async function imageConfig(store: LocalStore, imageId: string): Promise<ImageConfig> {
  return parseImageConfig(await store.content.readAll(Digest.parse(imageId)));
}

/** The docker-compatible `image inspect` object of one image. */
export async function inspectImage(store: LocalStore, image: ImageRecord): Promise<Record<string, unknown>> {
  const config = await imageConfig(store, image.id);
  const c = config.config ?? {};
  const out: Record<string, unknown> = {
    Id: image.id,
    RepoTags: store.db.tagsOf(image.id).map((t) => familiarTag(t.repository, t.tag)),
    RepoDigests: store.db.repoDigestsOf(image.id).map((d) => familiarDigest(d.repository, d.digest)),
    Parent: image.parent ?? "",
    Comment: config.history?.at(-1)?.comment ?? "",
    Created: config.created ?? "0001-01-01T00:00:00Z",
    DockerVersion: (config as { docker_version?: string }).docker_version ?? "",
    Author: config.author ?? "",
    Config: {
      Hostname: "",
      Domainname: "",
      User: c.User ?? "",
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      Image: "",
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? "",
      Entrypoint: c.Entrypoint ?? null,
      OnBuild: c.OnBuild?.length ? c.OnBuild : null,
      Labels: c.Labels ?? null,
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
      ...(c.Shell?.length ? { Shell: c.Shell } : {}),
    },
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    ...(config["os.version"] ? { OsVersion: config["os.version"] } : {}),
    Size: image.size,
    GraphDriver: {
      Data: graphDriverData(store, image.id),
      Name: "overlay2",
    },
    RootFS: { Type: "layers", Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
  };
  return out;
}

function graphDriverData(store: LocalStore, imageId: string): Record<string, string> {
  const layers = store.db.imageLayers(imageId);
  if (layers.length === 0) return {};
  const dirs = layers.map((l) => store.layerDiffDir(l.chainId));
  const top = dirs[dirs.length - 1]!;
  const data: Record<string, string> = {
    MergedDir: `${top}/../merged`,
    UpperDir: top,
    WorkDir: `${top}/../work`,
  };
  if (dirs.length > 1) data.LowerDir = dirs.slice(0, -1).reverse().join(":");
  return data;
}

export interface HistoryRow {
  /** The image ID for the top entry, "<missing>" for the rest (as Docker shows pulled images). */
  ID: string;
  Created: string | null;
  CreatedBy: string;
  Size: number;
  Comment: string;
  Tags: string[];
}

/** History entries of an image, newest first, with the size of each entry's layer. */
export async function imageHistory(store: LocalStore, imageId: string): Promise<HistoryRow[]> {
  const config = await imageConfig(store, imageId);
  const layers = store.db.imageLayers(imageId);
  const history = config.history ?? [];
  const rows: HistoryRow[] = [];
  let layerIndex = 0;
  for (const h of history) {
    const size = h.empty_layer ? 0 : (layers[layerIndex++]?.size ?? 0);
    rows.push({
      ID: "<missing>",
      Created: h.created ?? null,
      CreatedBy: h.created_by ?? "",
      Size: size,
      Comment: h.comment ?? "",
      Tags: [],
    });
  }
  rows.reverse();
  if (rows.length > 0) {
    rows[0]!.ID = imageId;
    rows[0]!.Tags = store.db.tagsOf(imageId).map((t) => familiarTag(t.repository, t.tag));
  }
  return rows;
}
