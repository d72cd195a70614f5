import { MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
import type { ContainerSettings } from "./settings.js";

/** The HostConfig fields of a container's isolation, with Docker's zero values when unset. */
export function securityHostConfig(s: ContainerSettings): Record<string, unknown> {
  const privileged = s.privileged ?? false;
  return {
    CapAdd: s.capAdd?.length ? s.capAdd : null,
    CapDrop: s.capDrop?.length ? s.capDrop : null,
    Privileged: privileged,
    SecurityOpt: s.securityOpt?.length ? s.securityOpt : null,
    Devices: (s.devices ?? []).map((d) => ({
      PathOnHost: d.pathOnHost,
      PathInContainer: d.pathInContainer,
      CgroupPermissions: d.cgroupPermissions,
    })),
    UsernsMode: s.usernsMode ?? "",
    // Docker records the defaults at create, and none for a privileged container.
    MaskedPaths: privileged ? null : MASKED_PATHS,
    ReadonlyPaths: privileged ? null : READONLY_PATHS,
  };
}
