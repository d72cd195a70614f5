import { availableParallelism } from "node:os";
import { normalizeCapabilities } from "./capabilities.js";
import { type DeviceMapping, devicesFromPath } from "./devices.js";
import { RuntimeUsageError } from "./errors.js";
import type { ContainerRecord } from "./records.js";
import { parseSecurityOptions } from "./security.js";
import type { IdMap } from "./security-opts.js";
import type { ContainerSettings } from "./settings.js";
import { AUTO_USER, allocateAuto, noSubIds, readSubIds, remapIdMap, subIdFiles } from "./userns.js";

/** The isolation a create request asks for (`run`/`create` flags). */
export interface SecurityRequest {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  devices?: DeviceMapping[];
  /** "" or undefined: the store's usernsRemap; "host"; "auto". */
  userns?: string;
}

type SecuritySettings = Pick<
  ContainerSettings,
  "privileged" | "capAdd" | "capDrop" | "securityOpt" | "devices" | "usernsMode" | "idMap"
>;

/**
 * The isolation settings of a new container, checked as Docker's daemon checks them before it
 * creates anything: capability names, security options (a seccomp profile parsed and its
 * syscalls known), devices present, subordinate IDs configured for a user namespace, privileged
 * mode not in one. An `auto` mapping is chosen later, in the transaction that adds the record
 * (autoIdMap), so that two creates never take the same IDs.
 */
export function securitySettings(req: SecurityRequest, usernsRemap?: string): SecuritySettings {
  const capAdd = normalizeCapabilities(req.capAdd ?? [], "CapAdd");
  const capDrop = normalizeCapabilities(req.capDrop ?? [], "CapDrop");
  const securityOpt = [...(req.securityOpt ?? [])];
  parseSecurityOptions(securityOpt);
  const devices = [...(req.devices ?? [])];
  for (const d of devices) devicesFromPath(d);
  const mode = req.userns ?? "";
  let idMap: IdMap | undefined;
  if (mode === "auto") {
    const files = subIdFiles();
    if (readSubIds(files.uid, AUTO_USER).length === 0) throw noSubIds(files.uid, "subuid");
    if (readSubIds(files.gid, AUTO_USER).length === 0) throw noSubIds(files.gid, "subgid");
  } else if (mode === "" && usernsRemap) idMap = remapIdMap(usernsRemap);
  if (req.privileged && (mode === "auto" || idMap))
    throw new RuntimeUsageError(
      "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode",
    );
  return {
    ...(req.privileged ? { privileged: true } : {}),
    ...(capAdd.length ? { capAdd } : {}),
    ...(capDrop.length ? { capDrop } : {}),
    ...(securityOpt.length ? { securityOpt } : {}),
    ...(devices.length ? { devices } : {}),
    ...(mode ? { usernsMode: mode } : {}),
    ...(idMap ? { idMap } : {}),
  };
}

/** An `auto` container's mapping: IDs of `containers` that no other container holds. Run inside the record's transaction. */
export function autoIdMap(others: ContainerRecord[]): IdMap {
  const files = subIdFiles();
  const taken = others.flatMap((r) => (r.settings.idMap ? [r.settings.idMap] : []));
  const map = allocateAuto(readSubIds(files.uid, AUTO_USER), readSubIds(files.gid, AUTO_USER), taken);
  if (!map)
    throw new RuntimeUsageError(
      `cannot use --userns=auto: every range of "${AUTO_USER}" in ${files.uid} is in use by other containers`,
    );
  return map;
}

/** Docker's check of --cpus against the host's processors (exit 125). */
export function checkCpus(cpus: number | undefined): void {
  if (cpus === undefined) return;
  const n = availableParallelism();
  if (cpus < 0.01 || cpus > n)
    throw new RuntimeUsageError(
      `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`,
    );
}
