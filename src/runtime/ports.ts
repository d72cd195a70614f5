import { RuntimeUsageError } from "./errors.js";

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
}

function port(s: string, what: string, whole: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535)
    throw new RuntimeUsageError(`invalid ${what} port: ${s} (from "${whole}")`);
  return Number(s);
}

/**
 * `-p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]` (also `[HOST_IP:]:CONTAINER_PORT` and a bare
 * CONTAINER_PORT, which Docker gives a free host port: `hostPort` 0 here). Ranges are not supported.
 */
export function parsePublish(spec: string): PortBinding {
  let rest = spec;
  let proto: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== "tcp" && p !== "udp") throw new RuntimeUsageError(`invalid proto: ${p}`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = "0.0.0.0";
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(":");
  if (parts.length > 3 || (v6 && parts.length > 2) || rest === "")
    throw new RuntimeUsageError(`invalid port format: ${spec}`);
  if (parts.some((p) => p.includes("-")))
    throw new RuntimeUsageError(`port ranges are not supported: ${spec}`);
  let hostPort = "";
  let containerPort: string;
  if (parts.length === 3) {
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(parts[0]!) && parts[0] !== "")
      throw new RuntimeUsageError(`invalid IP address: ${parts[0]}`);
    if (parts[0]) hostIp = parts[0]!;
    hostPort = parts[1]!;
    containerPort = parts[2]!;
  } else if (parts.length === 2) {
    hostPort = parts[0]!;
    containerPort = parts[1]!;
  } else containerPort = parts[0]!;
  if (hostIp.includes(".") && !hostIp.split(".").every((o) => Number(o) <= 255))
    throw new RuntimeUsageError(`invalid IP address: ${hostIp}`);
  return {
    hostIp,
    hostPort: hostPort === "" ? 0 : port(hostPort, "host", spec),
    containerPort: port(containerPort, "container", spec),
    proto,
  };
}

/** Docker's PORTS column: `0.0.0.0:8080->80/tcp`, comma-separated. */
export function formatPorts(bindings: PortBinding[]): string {
  return bindings.map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.proto}`).join(", ");
}
