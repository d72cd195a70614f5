import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import type { SecurityRequest } from "../runtime/create-security.js";
import { parseDeviceFlag } from "../runtime/devices.js";
import type { Command } from "./commander.js";

/** The isolation flags of `run` and `create`, as docker names them. */
export interface SecurityFlags {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  securityOpt?: string[];
  device?: string[];
  userns?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addSecurityFlags(cmd: Command): Command {
  return cmd
    .option("--cap-add <capability>", "add Linux capabilities", collect)
    .option("--cap-drop <capability>", "drop Linux capabilities", collect)
    .option("--privileged", "give extended privileges to this container")
    .option("--security-opt <option>", "security options", collect)
    .option("--device <spec>", "add a host device to the container", collect)
    .option("--userns <mode>", "user namespace to use (host, auto)");
}

/**
 * The flags as a create request, checked as the docker CLI checks them: a device's syntax, a
 * security option's shape, and a seccomp profile's file read and compacted here, its JSON kept
 * in the option as Docker keeps it (`seccomp={…}`) so the container never needs the file again.
 */
export function securityRequestFrom(flags: SecurityFlags): SecurityRequest {
  const userns = flags.userns;
  if (userns !== undefined && !["", "host", "auto"].includes(userns))
    throw new UsageError("--userns: invalid USER mode");
  return {
    privileged: flags.privileged ?? false,
    capAdd: flags.capAdd ?? [],
    capDrop: flags.capDrop ?? [],
    securityOpt: (flags.securityOpt ?? []).map(readSecurityOpt),
    devices: (flags.device ?? []).map(parseDeviceFlag),
    ...(userns ? { userns } : {}),
  };
}

function readSecurityOpt(opt: string): string {
  if (opt === "no-new-privileges" || opt === "disable") return opt;
  const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : undefined;
  if (!sep) throw new UsageError(`Invalid --security-opt: "${opt}"`);
  const i = opt.indexOf(sep);
  const [k, v] = [opt.slice(0, i), opt.slice(i + 1)];
  if (k !== "seccomp" || v === "unconfined" || v === "builtin") return opt;
  let text: string;
  try {
    text = readFileSync(v, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `opening seccomp profile (${v}) failed: open ${v}: ${e.code === "ENOENT" ? "no such file or directory" : e.message}`,
    );
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(text))}`;
  } catch (err) {
    throw new UsageError(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
  }
}
