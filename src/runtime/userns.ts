import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { readXattrTree, setXattr } from "../layer/special-files.js";
import { RuntimeError, RuntimeUsageError } from "./errors.js";
import type { SpecIdMapping } from "./oci-spec.js";
import type { IdMap } from "./security-opts.js";

/*
 * User namespaces: root in the container is an unprivileged user of the host. IDs come from the
 * host's subordinate ranges (/etc/subuid, /etc/subgid): `--userns=auto` takes, per container, a
 * block of 65536 of the `containers` user's IDs that no other container holds (podman's rule),
 * and the store-wide `usernsRemap: USER[:GROUP]` maps every container onto that user's ranges
 * (Docker's daemon option). runc 1.1 cannot idmap a mount, so the image's layers are copied
 * once per mapping with their owners shifted (Docker's userns-remap does the same when it
 * unpacks), beside the layer they come from; every container of that mapping shares them.
 */

/** podman's user for --userns=auto. */
export const AUTO_USER = "containers";
export const AUTO_SIZE = 65536;

export interface SubIdRange {
  start: number;
  count: number;
}

/** The subordinate ID files: the host's, or others named by BERTH_SUBUID_FILE / BERTH_SUBGID_FILE. */
export function subIdFiles(): { uid: string; gid: string } {
  return {
    uid: process.env.BERTH_SUBUID_FILE || "/etc/subuid",
    gid: process.env.BERTH_SUBGID_FILE || "/etc/subgid",
  };
}

/** The ranges of `user` (by name, or by numeric ID) in a subuid/subgid file. */
export function readSubIds(file: string, user: string, id?: number): SubIdRange[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {}
  const out: SubIdRange[] = [];
  for (const line of text.split("\n")) {
    const [name, start, count] = line.trim().split(":");
    if (!name || name.startsWith("#")) continue;
    if (name !== user && (id === undefined || name !== String(id))) continue;
    const s = Number(start);
    const n = Number(count);
    if (Number.isInteger(s) && Number.isInteger(n) && n > 0) out.push({ start: s, count: n });
  }
  return out;
}

/** Docker's userns-remap: the user's ranges, one after another, from container ID 0. */
export function remapIdMap(spec: string): IdMap {
  const [user = "", group = user] = spec.split(":");
  const name = user === "default" ? "dockremap" : user;
  const gname = user === "default" ? "dockremap" : group;
  const files = subIdFiles();
  const uids = readSubIds(files.uid, name);
  const gids = readSubIds(files.gid, gname);
  if (uids.length === 0)
    throw new RuntimeUsageError(
      `Can't create ID mappings: no subuid ranges found for user "${name}" in ${files.uid}`,
    );
  if (gids.length === 0)
    throw new RuntimeUsageError(
      `Can't create ID mappings: no subgid ranges found for group "${gname}" in ${files.gid}`,
    );
  const seq = (ranges: SubIdRange[]): SpecIdMapping[] => {
    let next = 0;
    return ranges.map((r) => {
      const m = { containerID: next, hostID: r.start, size: r.count };
      next += r.count;
      return m;
    });
  };
  return { uidMappings: seq(uids), gidMappings: seq(gids) };
}

/**
 * `--userns=auto`: the first block of `size` IDs of the `containers` ranges that no other
 * container's mapping overlaps, for users and groups alike. Pure over what it is given.
 */
export function allocateAuto(
  uidRanges: SubIdRange[],
  gidRanges: SubIdRange[],
  taken: IdMap[],
  size = AUTO_SIZE,
): IdMap | undefined {
  const pick = (ranges: SubIdRange[], used: SpecIdMapping[]): number | undefined => {
    for (const r of ranges) {
      for (let start = r.start; start + size <= r.start + r.count; ) {
        const clash = used.find((u) => start < u.hostID + u.size && u.hostID < start + size);
        if (!clash) return start;
        start = clash.hostID + clash.size;
      }
    }
    return undefined;
  };
  const uid = pick(
    uidRanges,
    taken.flatMap((t) => t.uidMappings),
  );
  const gid = pick(
    gidRanges,
    taken.flatMap((t) => t.gidMappings),
  );
  if (uid === undefined || gid === undefined) return undefined;
  return {
    uidMappings: [{ containerID: 0, hostID: uid, size }],
    gidMappings: [{ containerID: 0, hostID: gid, size }],
  };
}

/** `--userns=auto` where the host has no subordinate IDs for it: podman's words, exit 125. */
export function noSubIds(file: string, kind: "subuid" | "subgid"): RuntimeUsageError {
  return new RuntimeUsageError(
    `cannot use --userns=auto: no ${kind} ranges found for user "${AUTO_USER}" in ${file}`,
  );
}

/** A container ID's host ID under a mapping (undefined: not mapped). */
export function hostId(maps: readonly SpecIdMapping[], id: number): number | undefined {
  for (const m of maps)
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return undefined;
}

/** A mapping's short name: the directory its shifted layers live in. */
export function idMapKey(map: IdMap): string {
  return `idmap-${createHash("sha256").update(JSON.stringify(map)).digest("hex").slice(0, 16)}`;
}

const exec = promisify(execFile);

/**
 * A layer's directory as a container of this mapping sees it: a copy beside the layer
 * (LAYER/idmap-KEY/diff, removed with the layer) whose owners are shifted, made once, in
 * `tmpDir` then renamed into place so that no half-made copy is ever used. `cp -a` copies
 * (hard links, devices, whiteouts, xattrs), then every owner is shifted; the modes that a
 * chown clears (setuid, setgid) and file capabilities are put back.
 */
export async function shiftedLayer(layerDir: string, map: IdMap, tmpDir: string): Promise<string> {
  const target = join(layerDir, idMapKey(map));
  const diff = join(target, "diff");
  if (existsSync(diff)) return diff;
  mkdirSync(tmpDir, { recursive: true });
  const work = await mkdtemp(join(tmpDir, `idmap-${process.pid}-`));
  try {
    const copy = join(work, "diff");
    await exec("cp", ["-a", "--reflink=auto", join(layerDir, "diff"), copy]);
    shiftOwners(copy, map);
    mkdirSync(join(work, "done"));
    renameSync(copy, join(work, "done", "diff"));
    try {
      renameSync(join(work, "done"), target);
    } catch (err) {
      // Another process made the same copy first: its copy is as good.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "EEXIST" && code !== "ENOTEMPTY") || !existsSync(diff)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return diff;
}

/** Every owner under `root` moved by the mapping (in place); what it cannot map is an error. */
export function shiftOwners(root: string, map: IdMap): void {
  const caps = readXattrTree(root);
  const walk = (rel: string) => {
    const path = rel ? join(root, rel) : root;
    const st = lstatSync(path);
    const uid = hostId(map.uidMappings, st.uid);
    const gid = hostId(map.gidMappings, st.gid);
    if (uid === undefined || gid === undefined)
      throw new RuntimeError(
        `${rel || "/"} is owned by ${st.uid}:${st.gid}, which the user namespace's mapping does not cover`,
      );
    lchownSync(path, uid, gid);
    if (!st.isSymbolicLink() && st.mode & 0o6000) chmodSync(path, st.mode & 0o7777);
    const fcap = caps.get(rel)?.get("security.capability");
    if (fcap && !st.isSymbolicLink()) setXattr(path, "security.capability", fcap);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(rel ? join(rel, name) : name);
  };
  walk("");
}

/** The container's own directories (its layer, the init layer) owned by its root. */
export function chownForMap(paths: string[], map: IdMap): void {
  const uid = hostId(map.uidMappings, 0) ?? 0;
  const gid = hostId(map.gidMappings, 0) ?? 0;
  for (const p of paths) shiftTree(p, uid, gid);
}

function shiftTree(path: string, uid: number, gid: number): void {
  const st = lstatSync(path);
  lchownSync(path, uid + st.uid, gid + st.gid);
  if (st.isDirectory()) for (const n of readdirSync(path)) shiftTree(join(path, n), uid, gid);
}

/** The directories down to a container's root must be searchable by the mapped root (a 0700 store root is not). */
export function openPathTo(dirs: string[]): void {
  for (const d of dirs) {
    const mode = lstatSync(d).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
  }
}

/** A container's lower directories (its init layer, then its image's layers) as its mapping sees them. */
export async function shiftedLowers(lowers: string[], map: IdMap, tmpDir: string): Promise<string[]> {
  const [init, ...layers] = lowers;
  const shifted: string[] = [];
  // One at a time: each is a cp and a walk; a first run of an image pays for them once.
  for (const l of layers) shifted.push(await shiftedLayer(dirname(l), map, tmpDir));
  return [init!, ...shifted];
}

/** A host ID's container ID under a mapping (undefined: not mapped). */
export function containerId(maps: readonly SpecIdMapping[], id: number): number | undefined {
  for (const m of maps) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + id - m.hostID;
  return undefined;
}

/** Owners as a container of the mapping sees them (for commit and export): unmapped ones are nobody's. */
export function ownersInside(map: IdMap): (uid: number, gid: number) => [number, number] {
  return (uid, gid) => [
    containerId(map.uidMappings, uid) ?? 65534,
    containerId(map.gidMappings, gid) ?? 65534,
  ];
}
