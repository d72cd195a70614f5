import {
  DEFAULT_CAPABILITIES,
  DEFAULT_INIT_BINARY,
  DEFAULT_NAMESPACES,
  defaultMounts,
  MASKED_PATHS,
  READONLY_PATHS,
} from "./defaults.js";
import type { RuntimeSpec } from "./oci-spec.js";
import type { SandboxSettings } from "./settings.js";
import {
  type EtcFiles,
  newSpec,
  type SpecOpt,
  withBindMounts,
  withCapabilities,
  withCgroupsPath,
  withCwd,
  withEnv,
  withEtcFiles,
  withHostname,
  withInit,
  withMaskedPaths,
  withMounts,
  withNamespaces,
  withNetwork,
  withProcessArgs,
  withResources,
  withRootfs,
  withTerminal,
  withUser,
} from "./spec-opts.js";
import type { ResolvedUser } from "./user.js";

/** What the lifecycle found on the host for a sandbox's spec: paths it made, the user it resolved. */
export interface HostFacts {
  /** The merged root filesystem (the overlay's mount point). */
  rootfs: string;
  /** settings.user, resolved against the container's own /etc/passwd and /etc/group. */
  user: ResolvedUser;
  etc: EtcFiles;
  /** The network namespace made for the "default" network (slirp4netns serves it). */
  netnsPath?: string;
  /** The static init bind-mounted for settings.init (default: Debian's tini-static). */
  initBinary?: string;
  /** Relative: runc creates it under the caller's cgroup. */
  cgroupsPath: string;
}

/**
 * The options of a sandbox's spec, in Docker's order (later options win where two touch one field):
 * every container, a `run`'s as a build's RUN's, is made by this one list. Pure.
 */
export function sandboxSpecOpts(s: SandboxSettings, host: HostFacts): SpecOpt[] {
  return [
    withRootfs(host.rootfs, s.readOnly),
    withProcessArgs(s.args),
    withEnv(s.env),
    withCwd(s.workingDir || "/"),
    withTerminal(s.tty),
    withUser(host.user),
    withHostname(s.hostname),
    withCapabilities(DEFAULT_CAPABILITIES),
    withMounts(defaultMounts()),
    withMaskedPaths(MASKED_PATHS, READONLY_PATHS),
    withNamespaces(DEFAULT_NAMESPACES),
    withNetwork(s.network, host.netnsPath),
    withEtcFiles(host.etc),
    withBindMounts(s.mounts),
    ...(s.init ? [withInit(host.initBinary ?? DEFAULT_INIT_BINARY)] : []),
    withResources(s.limits),
    withCgroupsPath(host.cgroupsPath),
  ];
}

export function sandboxSpec(s: SandboxSettings, host: HostFacts): RuntimeSpec {
  return newSpec(...sandboxSpecOpts(s, host));
}
