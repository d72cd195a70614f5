import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { RuntimeUsageError } from "./errors.js";
import type { SpecDevice, SpecResources } from "./oci-spec.js";

/** `--device HOST[:CONTAINER][:PERMS]` as a container keeps it (Docker's DeviceMapping). */
export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  cgroupPermissions: string;
}

export type DeviceRule = SpecResources["devices"][number];

/** A device node for the container's /dev, with the cgroup rule that lets it be used. */
export interface ResolvedDevice {
  device: SpecDevice;
  rule: DeviceRule;
}

/**
 * Docker's device cgroup rules for every container (moby oci/defaults.go): everything denied,
 * then the nodes runc makes (null, zero, full, random, urandom, tty, console, ptmx), and fuse
 * denied; runc adds its own defaults (mknod, pts, tun) after them.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
  { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
];

/** The docker CLI's parseDevice: a mode only of r, w, m; the container path absolute. */
export function parseDeviceFlag(spec: string): DeviceMapping {
  const parts = spec.split(":");
  if (parts.length > 3) throw new UsageError(`invalid device specification: ${spec}`);
  const [src = "", second, third] = parts;
  let dst = "";
  let perms = "rwm";
  if (third !== undefined) {
    perms = third;
    dst = second ?? "";
  } else if (second !== undefined) {
    if (validDeviceMode(second)) perms = second;
    else dst = second;
  }
  if (!dst) dst = src;
  if (!validDeviceMode(perms)) throw new UsageError(`invalid device mode: ${perms}`);
  if (!src.startsWith("/")) throw new UsageError(`bad format for path: ${src}`);
  if (!dst.startsWith("/")) throw new UsageError(`bad format for path: ${dst}`);
  return { pathOnHost: src, pathInContainer: dst, cgroupPermissions: perms };
}

function validDeviceMode(mode: string): boolean {
  if (mode === "" || mode.length > 3) return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!"rwm".includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/**
 * The devices of a mapping (moby DevicesFromPath): one node, or every node under a directory;
 * a path that is neither is Docker's "error gathering device information" (exit 125).
 */
export function devicesFromPath(m: DeviceMapping): ResolvedDevice[] {
  let host = m.pathOnHost;
  try {
    if (lstatSync(host).isSymbolicLink()) host = realpathSync(host);
  } catch {}
  const fail = (why: string): never => {
    throw new RuntimeUsageError(
      `error gathering device information while adding custom device "${m.pathOnHost}": ${why}`,
    );
  };
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(host, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === "ENOENT" ? "no such file or directory" : (err as Error).message);
  }
  const one = deviceAt(host, m.pathInContainer);
  if (one) return [{ device: one, rule: ruleFor(one, m.cgroupPermissions) }];
  const out: ResolvedDevice[] = [];
  if (st.isDirectory()) {
    for (const [path, dev] of walkDevices(host, new Set())) {
      const device = { ...dev, path: m.pathInContainer + path.slice(host.length) };
      out.push({ device, rule: ruleFor(device, m.cgroupPermissions) });
    }
  }
  if (out.length === 0) fail("not a device node");
  return out;
}

/**
 * Every device node of the host's /dev, for `--privileged` (containerd's HostDevices): not the
 * pseudo-terminals, shared memory and message queues a container has of its own, nor the console.
 */
export function hostDevices(): SpecDevice[] {
  const skip = new Set(["/dev/pts", "/dev/shm", "/dev/fd", "/dev/mqueue", "/dev/console"]);
  return walkDevices("/dev", skip).map(([, d]) => d);
}

function walkDevices(dir: string, skip: Set<string>): [string, SpecDevice][] {
  const out: [string, SpecDevice][] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (skip.has(path) || e.name.startsWith(".")) continue;
    if (e.isDirectory()) out.push(...walkDevices(path, skip));
    else if (e.isCharacterDevice() || e.isBlockDevice()) {
      const d = deviceAt(path, path);
      if (d) out.push([path, d]);
    }
  }
  return out;
}

/** A device node's type and numbers (Linux's encoding of dev_t), as the spec wants them. */
function deviceAt(hostPath: string, containerPath: string): SpecDevice | undefined {
  let st: import("node:fs").BigIntStats;
  try {
    st = statSync(hostPath, { bigint: true });
  } catch {
    return undefined;
  }
  const type = st.isCharacterDevice() ? "c" : st.isBlockDevice() ? "b" : undefined;
  if (!type) return undefined;
  const rdev = st.rdev;
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return {
    path: containerPath,
    type,
    major,
    minor,
    fileMode: Number(st.mode & 0o777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

function ruleFor(d: SpecDevice, access: string): DeviceRule {
  return { allow: true, type: d.type, major: d.major, minor: d.minor, access };
}
