import { RuntimeUsageError } from "./errors.js";
import { parseSeccompProfile, type SeccompProfile } from "./seccomp/profile.js";

/** What a container's `--security-opt` list asks for. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "default": Berth's profile; "unconfined": none; else a profile of the user's (Docker's format). */
  seccomp: "default" | "unconfined" | SeccompProfile;
  /** `label=…` and `apparmor=…` as given: accepted, no-ops on a host without SELinux or AppArmor. */
  labels: string[];
  apparmor?: string;
}

/**
 * `--security-opt` values as Docker's daemon reads them (daemon_unix.go parseSecurityOpt):
 * `no-new-privileges[=BOOL]`, `seccomp=unconfined|builtin|JSON` (the CLI has put the file's
 * JSON in place of its path), `label=…` / `label:…`, `apparmor=…`; anything else is its
 * "invalid --security-opt" (exit 125). A profile is checked here, before anything is created.
 */
export function parseSecurityOptions(list: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: "default", labels: [] };
  for (const opt of list) {
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "disable") {
      out.labels.push("disable");
      continue;
    }
    const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : undefined;
    if (!sep) throw new RuntimeUsageError(`invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const k = opt.slice(0, i);
    const v = opt.slice(i + 1);
    switch (k) {
      case "label":
        out.labels.push(v);
        break;
      case "apparmor":
        out.apparmor = v;
        break;
      case "seccomp":
        out.seccomp =
          v === "unconfined"
            ? "unconfined"
            : v === "builtin" || v === ""
              ? "default"
              : parseSeccompProfile(v);
        break;
      case "no-new-privileges": {
        const b = parseBool(v);
        if (b === undefined) throw new RuntimeUsageError(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = b;
        break;
      }
      default:
        throw new RuntimeUsageError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}
