import { resolve } from "node:path";
import { RuntimeUsageError } from "./errors.js";

/** A mount as the user asked for it: a host path (bind) or a volume name (created when missing). */
export interface MountRequest {
  type: "bind" | "volume";
  /** Absolute host path, or a volume name (empty: an anonymous volume). */
  source: string;
  destination: string;
  readOnly: boolean;
  /** The flag it came from, for inspect: `-v` (HostConfig.Binds, Config.Volumes) or `--mount` (HostConfig.Mounts). */
  flag?: "volume" | "mount";
  /** The `-v` text as HostConfig.Binds keeps it (its host path made absolute). */
  spec?: string;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function destination(d: string, whole: string): string {
  if (!d.startsWith("/"))
    throw new RuntimeUsageError(`invalid mount config: mount path must be absolute: ${d} (from "${whole}")`);
  if (d === "/")
    throw new RuntimeUsageError(`invalid mount config: destination can't be '/' (from "${whole}")`);
  return d.replace(/\/+$/, "");
}

/**
 * `-v SRC:DST[:ro|rw]`, `-v NAME:DST`, `-v DST` (anonymous volume). A host path starting with
 * "." (`./dir`, `.`, `..`) is taken from `cwd`, as docker CLI 28 resolves it before sending it.
 */
export function parseVolumeFlag(given: string, cwd?: string): MountRequest {
  let spec = given;
  const colon = given.indexOf(":");
  if (cwd !== undefined && colon > 0 && given.startsWith("."))
    spec = `${resolve(cwd, given.slice(0, colon))}${given.slice(colon)}`;
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === ""))
    throw new RuntimeUsageError(`invalid volume specification: '${spec}'`);
  let readOnly = false;
  if (parts.length === 3) {
    const mode = parts.pop()!;
    for (const m of mode.split(",")) {
      if (m === "ro") readOnly = true;
      else if (m !== "rw" && m !== "z" && m !== "Z") throw new RuntimeUsageError(`invalid mode: ${mode}`);
    }
  }
  if (parts.length === 1)
    return {
      type: "volume",
      source: "",
      destination: destination(parts[0]!, spec),
      readOnly,
      flag: "volume",
    };
  const [src, dst] = parts as [string, string];
  if (src.startsWith("/"))
    return { type: "bind", source: src, destination: destination(dst, spec), readOnly, flag: "volume", spec };
  if (!VOLUME_NAME.test(src))
    throw new RuntimeUsageError(
      `create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  return { type: "volume", source: src, destination: destination(dst, spec), readOnly, flag: "volume", spec };
}

/**
 * `--mount type=bind,source=…,target=…[,readonly]` (type bind or volume). A source of `.` or
 * `./…` is taken from `cwd`, as docker CLI 28 does.
 */
export function parseMountFlag(spec: string, cwd?: string): MountRequest {
  let type = "volume";
  let source = "";
  let target = "";
  let readOnly = false;
  for (const field of spec.split(",")) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case "type":
        type = value ?? "";
        break;
      case "source":
      case "src":
        source = value ?? "";
        if (cwd !== undefined && (source === "." || source.startsWith("./"))) source = resolve(cwd, source);
        break;
      case "target":
      case "destination":
      case "dst":
        target = value ?? "";
        break;
      case "readonly":
      case "ro":
        readOnly = value === undefined || value === "1" || value === "true";
        if (value !== undefined && !["0", "1", "true", "false"].includes(value))
          throw new RuntimeUsageError(`invalid value for ${key}: ${value}`);
        break;
      default:
        throw new RuntimeUsageError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type !== "bind" && type !== "volume") throw new RuntimeUsageError(`invalid mount type: ${type}`);
  if (!target) throw new RuntimeUsageError("invalid argument for --mount: target is required");
  if (type === "bind") {
    if (!source)
      throw new RuntimeUsageError('invalid mount config for type "bind": field Source must not be empty');
    if (!source.startsWith("/"))
      throw new RuntimeUsageError(
        `invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`,
      );
  } else if (source && !VOLUME_NAME.test(source)) {
    throw new RuntimeUsageError(`invalid volume name: ${source}`);
  }
  return { type, source, destination: destination(target, spec), readOnly, flag: "mount" };
}
