import { basename } from "node:path";
import type { Containers, ContainerView } from "./containers.js";
import { MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
import type { MountSetting } from "./settings.js";

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** /dev/shm of every container (defaults.ts mounts it with size=65536k). */
const SHM_SIZE = 64 * 1024 * 1024;

/** slirp4netns's network: the container's address, the gateway, the prefix. */
const SLIRP = { address: "10.0.2.100", gateway: "10.0.2.2", prefixLen: 24 };

type Binding = { HostIp: string; HostPort: string };

/**
 * Docker's `docker container inspect` object for one container: every field Docker 28 (API
 * 1.48+) prints, in its order, with Docker's zero value where Berth has nothing to say (`null`,
 * `[]`, `""` or `0` as Docker prints each), and only the fields Docker omits when empty left out
 * (Healthcheck, StopSignal, StopTimeout, Init, HostConfig.Mounts, ...). Maps have their keys
 * sorted, as Go's encoder writes them.
 */
export function inspectContainer(containers: Containers, c: ContainerView): Record<string, unknown> {
  const s = c.settings;
  const o = c.observed;
  const paths = containers.paths(c.id);
  const running = o.state === "running";
  const lowers = [
    paths.init,
    ...containers.store.db
      .imageLayers(c.imageId)
      .map((l) => containers.store.layerDiffDir(l.chainId))
      .reverse(),
  ];
  // Published ports are exposed too (docker's CLI adds them to ExposedPorts).
  const exposed = [...new Set([...s.exposedPorts, ...s.ports.map((p) => `${p.containerPort}/${p.proto}`)])];
  // What the network gives the running container; nothing before it starts or after it stops.
  const ports: Record<string, Binding[] | null> = {};
  if (running) {
    for (const p of exposed) ports[p] = null;
    for (const p of s.ports)
      add(ports, `${p.containerPort}/${p.proto}`, { HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  const portBindings: Record<string, Binding[] | null> = {};
  for (const p of s.ports)
    add(portBindings, `${p.containerPort}/${p.proto}`, {
      HostIp: p.hostIp === "0.0.0.0" ? "" : p.hostIp,
      HostPort: p.hostPort ? String(p.hostPort) : "",
    });
  const given = s.given;
  const binds = s.mounts.filter((m) => m.flag !== "mount" && (m.type === "bind" || !isAnonymous(m)));
  const volumes = s.mounts.filter((m) => m.flag !== "mount" && m.type === "volume" && isAnonymous(m));
  const mountFlags = s.mounts.filter((m) => m.flag === "mount");
  const networkName = s.network === "default" ? "bridge" : s.network;
  const onSlirp = s.network === "default" && running;
  const endpoint = {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: "",
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: "",
    EndpointID: "",
    Gateway: onSlirp ? SLIRP.gateway : "",
    IPAddress: onSlirp ? SLIRP.address : "",
    IPPrefixLen: onSlirp ? SLIRP.prefixLen : 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
  return {
    Id: c.id,
    Created: c.created,
    Path: s.args[0] ?? "",
    Args: s.args.slice(1),
    State: {
      Status: o.state,
      Running: running,
      Paused: false,
      Restarting: o.state === "restarting",
      OOMKilled: false,
      Dead: o.state === "dead",
      Pid: running ? (c.pid ?? 0) : 0,
      ExitCode: o.exitCode,
      Error: o.error,
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: o.finishedAt ?? ZERO_TIME,
    },
    Image: c.imageId,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: paths.log,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: "overlay2",
    Platform: s.platform.split("/")[0] ?? "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      Binds: binds.length > 0 ? binds.map(bindText) : null,
      ContainerIDFile: "",
      // conmon writes the log (LogPath) in its k8s-file format, as podman's inspect says.
      LogConfig: { Type: "k8s-file", Config: {} },
      NetworkMode: networkName,
      PortBindings: sorted(portBindings),
      RestartPolicy: { Name: s.restartPolicy.name, MaximumRetryCount: s.restartPolicy.maximumRetryCount },
      AutoRemove: s.autoRemove,
      VolumeDriver: "",
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: null,
      CapDrop: null,
      // Every Berth container has cgroup and IPC namespaces of its own (spec.ts).
      CgroupnsMode: "private",
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: "private",
      Cgroup: "",
      Links: null,
      OomScoreAdj: 0,
      PidMode: "",
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: s.readOnly,
      SecurityOpt: null,
      UTSMode: "",
      UsernsMode: "",
      ShmSize: SHM_SIZE,
      Runtime: basename(containers.runtime.path),
      Isolation: "",
      CpuShares: 0,
      Memory: s.limits.memory ?? 0,
      NanoCpus: s.limits.cpus ? Math.round(s.limits.cpus * 1e9) : 0,
      CgroupParent: "",
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: "",
      CpusetMems: "",
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: false,
      PidsLimit: s.limits.pidsLimit ?? null,
      Ulimits: [],
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      ...(mountFlags.length > 0 ? { Mounts: mountFlags.map(mountSpec) } : {}),
      MaskedPaths: [...MASKED_PATHS],
      ReadonlyPaths: [...READONLY_PATHS],
      ...(s.init ? { Init: true } : {}),
    },
    GraphDriver: {
      Data: {
        LowerDir: lowers.join(":"),
        MergedDir: paths.merged,
        UpperDir: paths.upper,
        WorkDir: paths.work,
      },
      Name: "overlay2",
    },
    Mounts: s.mounts.map((m) => ({
      Type: m.type,
      ...(m.name ? { Name: m.name } : {}),
      Source: m.source,
      Destination: m.destination,
      ...(m.type === "volume" ? { Driver: "local" } : {}),
      Mode: m.readOnly ? "ro" : "",
      RW: !m.readOnly,
      Propagation: m.type === "bind" ? "rprivate" : "",
    })),
    Config: {
      Hostname: s.hostname,
      Domainname: "",
      User: s.user,
      AttachStdin: given?.attach.stdin ?? false,
      AttachStdout: given?.attach.stdout ?? !s.openStdin,
      AttachStderr: given?.attach.stderr ?? !s.openStdin,
      ...(exposed.length ? { ExposedPorts: Object.fromEntries(exposed.sort().map((p) => [p, {}])) } : {}),
      Tty: s.tty,
      OpenStdin: s.openStdin,
      StdinOnce: s.stdinOnce,
      Env: given?.env ?? s.env,
      Cmd: s.cmd,
      Image: c.image,
      Volumes:
        volumes.length > 0
          ? Object.fromEntries(
              volumes
                .map((m) => m.destination)
                .sort()
                .map((d) => [d, {}]),
            )
          : null,
      WorkingDir: s.workingDir,
      Entrypoint: s.entrypoint,
      OnBuild: null,
      Labels: sorted(s.labels),
      ...(given
        ? {
            ...(given.stopSignal !== undefined ? { StopSignal: given.stopSignal } : {}),
            ...(given.stopTimeout !== undefined ? { StopTimeout: given.stopTimeout } : {}),
          }
        : { StopSignal: s.stopSignal, StopTimeout: s.stopTimeout }),
    },
    NetworkSettings: {
      Bridge: "",
      SandboxID: "",
      SandboxKey: onSlirp ? `/run/netns/berth-${c.id}` : "",
      Ports: sorted(ports),
      HairpinMode: false,
      LinkLocalIPv6Address: "",
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      // The top-level copy of the "bridge" network's endpoint (Docker's DefaultNetworkSettings).
      EndpointID: "",
      Gateway: networkName === "bridge" ? endpoint.Gateway : "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      IPAddress: networkName === "bridge" ? endpoint.IPAddress : "",
      IPPrefixLen: networkName === "bridge" ? endpoint.IPPrefixLen : 0,
      IPv6Gateway: "",
      MacAddress: "",
      Networks: { [networkName]: endpoint },
    },
  };
}

function add(map: Record<string, Binding[] | null>, key: string, b: Binding): void {
  map[key] = [...(map[key] ?? []), b];
}

function sorted<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A volume created for the container alone (`-v /path`): its name is 64 random hex digits. */
function isAnonymous(m: MountSetting): boolean {
  return m.type === "volume" && /^[0-9a-f]{64}$/.test(m.name ?? "");
}

/** A `-v` mount as HostConfig.Binds shows it: as typed (host path made absolute), or rebuilt for older records. */
function bindText(m: MountSetting): string {
  if (m.spec) return m.spec;
  const source = m.type === "volume" ? (m.name ?? m.source) : m.source;
  return `${source}:${m.destination}${m.readOnly ? ":ro" : ""}`;
}

/** A `--mount` as HostConfig.Mounts shows it (mount.Mount: empty fields omitted). */
function mountSpec(m: MountSetting): Record<string, unknown> {
  const source = m.type === "volume" ? (isAnonymous(m) ? "" : (m.name ?? "")) : m.source;
  return {
    Type: m.type,
    ...(source ? { Source: source } : {}),
    Target: m.destination,
    ...(m.readOnly ? { ReadOnly: true } : {}),
  };
}
