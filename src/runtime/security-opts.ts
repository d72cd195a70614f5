import { DEFAULT_DEVICE_RULES, type ResolvedDevice } from "./devices.js";
import type { SpecDevice, SpecIdMapping } from "./oci-spec.js";
import { type SeccompHost, type SeccompProfile, seccompForSpec } from "./seccomp/profile.js";
import type { SpecOpt } from "./spec-opts.js";

/*
 * The spec options of a container's isolation (spec-opts.ts has the rest): devices, privileged
 * mode, no-new-privileges, the seccomp filter, the user namespace. Pure, as every option is:
 * the devices' numbers, the host's capabilities and the profile are found by the lifecycle.
 */

/** Docker's device cgroup rules; the device nodes are runc's defaults. */
export function withDefaultDevices(): SpecOpt {
  return (s) => {
    s.linux.resources.devices = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  };
}

/** `--device`: the nodes made in the container's /dev and the cgroup rules that allow them. */
export function withDevices(devices: readonly ResolvedDevice[]): SpecOpt {
  return (s) => {
    if (devices.length === 0) return;
    s.linux.devices = [...(s.linux.devices ?? []), ...devices.map((d) => ({ ...d.device }))];
    s.linux.resources.devices.push(...devices.map((d) => ({ ...d.rule })));
  };
}

/**
 * `--privileged`, as Docker documents it: every device of the host and every device allowed, no
 * masked or read-only kernel paths, /sys and the cgroup filesystem writable. Its capabilities
 * are withCapabilities' (all the host has) and it has no seccomp filter unless one is asked
 * for: withSeccomp decides. Comes after the defaults it undoes.
 */
export function withPrivileged(devices: readonly SpecDevice[]): SpecOpt {
  return (s) => {
    s.linux.maskedPaths = [];
    s.linux.readonlyPaths = [];
    s.mounts = s.mounts.map((m) =>
      m.destination === "/sys" || m.type === "cgroup"
        ? { ...m, options: m.options.filter((o) => o !== "ro") }
        : m,
    );
    const taken = new Set((s.linux.devices ?? []).map((d) => d.path));
    s.linux.devices = [
      ...(s.linux.devices ?? []),
      ...devices.filter((d) => !taken.has(d.path)).map((d) => ({ ...d })),
    ];
    s.linux.resources.devices = [{ allow: true, access: "rwm" }];
  };
}

/** `--security-opt no-new-privileges`: setuid programs and file capabilities give nothing more. */
export function withNoNewPrivileges(on: boolean): SpecOpt {
  return (s) => {
    s.process.noNewPrivileges = on;
  };
}

/**
 * The seccomp filter of a profile (undefined: none), its capability-gated rules following the
 * process's bounding set: comes after withCapabilities.
 */
export function withSeccomp(
  profile: SeccompProfile | undefined,
  host: Omit<SeccompHost, "capabilities">,
): SpecOpt {
  return (s) => {
    if (!profile) {
      delete s.linux.seccomp;
      return;
    }
    s.linux.seccomp = seccompForSpec(profile, { ...host, capabilities: s.process.capabilities.bounding });
  };
}

/** A user namespace's ID mappings: container IDs onto host IDs. */
export interface IdMap {
  uidMappings: SpecIdMapping[];
  gidMappings: SpecIdMapping[];
}

/**
 * A user namespace of the container's own, its IDs mapped onto the host's: root inside is an
 * unprivileged user outside. Its filesystems are made for it (userns.ts: layers with shifted
 * owners), and its network namespace is its own (the lifecycle has slirp4netns join it). A
 * network namespace it does not own (the host's) cannot have a sysfs mounted from inside it:
 * it gets the host's /sys read-only, bound. Comes after withNetwork.
 */
export function withUserNamespace(map: IdMap | undefined): SpecOpt {
  return (s) => {
    if (!map) return;
    if (!s.linux.namespaces.some((n) => n.type === "user")) s.linux.namespaces.push({ type: "user" });
    s.linux.uidMappings = map.uidMappings.map((m) => ({ ...m }));
    s.linux.gidMappings = map.gidMappings.map((m) => ({ ...m }));
    const ownNetwork = s.linux.namespaces.some((n) => n.type === "network" && !n.path);
    if (!ownNetwork)
      s.mounts = s.mounts.map((m) =>
        m.destination === "/sys" && m.type === "sysfs"
          ? {
              destination: "/sys",
              type: "bind",
              source: "/sys",
              options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
            }
          : m,
      );
  };
}
