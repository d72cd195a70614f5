import type { Containers, ContainerView } from "./containers.js";

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Docker's `docker container inspect` object for one container. */
export function inspectContainer(containers: Containers, c: ContainerView): Record<string, unknown> {
  const s = c.settings;
  const o = c.observed;
  const paths = containers.paths(c.id);
  const lowers = containers.lowerDirs(c);
  type Binding = { HostIp: string; HostPort: string };
  const add = (map: Record<string, Binding[] | null>, key: string, b: Binding) => {
    map[key] = [...(map[key] ?? []), b];
  };
  const ports: Record<string, Binding[] | null> = {};
  for (const p of s.exposedPorts) ports[p] = null;
  if (o.state === "running")
    for (const p of s.ports)
      add(ports, `${p.containerPort}/${p.proto}`, { HostIp: p.hostIp, HostPort: String(p.hostPort) });
  const portBindings: Record<string, Binding[] | null> = {};
  for (const p of s.ports)
    add(portBindings, `${p.containerPort}/${p.proto}`, {
      HostIp: p.hostIp === "0.0.0.0" ? "" : p.hostIp,
      HostPort: p.hostPort ? String(p.hostPort) : "",
    });
  const running = o.state === "running";
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
      Binds: s.mounts
        .filter((m) => m.type === "bind")
        .map((m) => `${m.source}:${m.destination}${m.readOnly ? ":ro" : ""}`),
      NetworkMode: s.network === "default" ? "bridge" : s.network,
      PortBindings: portBindings,
      RestartPolicy: { Name: s.restartPolicy.name, MaximumRetryCount: s.restartPolicy.maximumRetryCount },
      AutoRemove: s.autoRemove,
      ReadonlyRootfs: s.readOnly,
      Init: s.init,
      Memory: s.limits.memory ?? 0,
      NanoCpus: s.limits.cpus ? Math.round(s.limits.cpus * 1e9) : 0,
      PidsLimit: s.limits.pidsLimit ?? null,
      CapAdd: null,
      CapDrop: null,
      Privileged: false,
      Runtime: "runc",
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
      Driver: m.type === "volume" ? "local" : undefined,
      Mode: m.readOnly ? "ro" : "",
      RW: !m.readOnly,
      Propagation: m.type === "bind" ? "rprivate" : "",
    })),
    Config: {
      Hostname: s.hostname,
      Domainname: "",
      User: s.user,
      AttachStdin: false,
      AttachStdout: !s.openStdin,
      AttachStderr: !s.openStdin,
      ...(s.exposedPorts.length
        ? { ExposedPorts: Object.fromEntries(s.exposedPorts.map((p) => [p, {}])) }
        : {}),
      Tty: s.tty,
      OpenStdin: s.openStdin,
      StdinOnce: s.stdinOnce,
      Env: s.env,
      Cmd: s.cmd,
      Image: c.image,
      Volumes: null,
      WorkingDir: s.workingDir,
      Entrypoint: s.entrypoint,
      OnBuild: null,
      Labels: s.labels,
      StopSignal: s.stopSignal,
      StopTimeout: s.stopTimeout,
    },
    NetworkSettings: {
      Ports: ports,
      SandboxKey: s.network === "default" && running ? `/run/netns/berth-${c.id}` : "",
      IPAddress: s.network === "default" && running ? "10.0.2.100" : "",
      Gateway: s.network === "default" && running ? "10.0.2.2" : "",
    },
  };
}
