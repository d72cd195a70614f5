import { DEFAULT_CAPABILITIES } from "./defaults.js";
import { RuntimeUsageError } from "./errors.js";

/** Linux's capabilities by number (include/uapi/linux/capability.h), as the spec names them. */
export const CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

/**
 * `--cap-add`/`--cap-drop` values as Docker's daemon normalizes them: upper case, `CAP_` added
 * when missing, `ALL` kept; an unknown name is its "unknown capability" (exit 125), under
 * `invalid CapAdd`/`invalid CapDrop`.
 */
export function normalizeCapabilities(list: readonly string[], field: "CapAdd" | "CapDrop"): string[] {
  return list.map((raw) => {
    const c = raw.toUpperCase();
    if (c === "ALL") return c;
    const name = c.startsWith("CAP_") ? c : `CAP_${c}`;
    if (!(CAPABILITIES as readonly string[]).includes(name))
      throw new RuntimeUsageError(`invalid ${field}: unknown capability: "${name}"`);
    return name;
  });
}

/**
 * The capabilities a container's process keeps, by Docker's rule (moby oci/caps TweakCapabilities):
 * privileged gets all the host has; `--cap-add ALL` all but the dropped; `--cap-drop ALL` only the
 * added; otherwise the defaults less the dropped, plus the added. `all` is what the host allows
 * (its bounding set), names normalized.
 */
export function capabilitySet(
  add: readonly string[],
  drop: readonly string[],
  privileged: boolean,
  all: readonly string[] = CAPABILITIES,
): string[] {
  if (privileged) return [...all];
  if (add.includes("ALL")) return all.filter((c) => !drop.includes(c));
  const base = drop.includes("ALL") ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const out = [...base];
  for (const c of add) if (!out.includes(c)) out.push(c);
  return out;
}

/** The names of a capability mask (/proc/PID/status's CapBnd, hex). */
export function capabilityNames(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask.trim() || "0"}`);
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
