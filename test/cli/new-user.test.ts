import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { BERTH_BIN, berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir, fixtureLayout } from "../helpers/fixtures.js";
import { run, type Server, skopeo, startBerthRegistry, tempDir } from "../helpers/processes.js";
import { inspect } from "../runtime/helpers.js";

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** go-units HumanSizeWithPrecision(size, 3), as `images` and `history` print sizes. */
function humanSize3(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(3))}${units[i]}`;
}

/**
 * Docker's size of a layer blob, read from the tar itself (not from anything Berth wrote): the
 * bytes of its regular files and the lengths of its symlinks' targets; hard links add nothing.
 * (What dockerd's overlay2 reports for the busybox fixture: 1984306, checked against Debian's
 * dockerd 20.10 on this kind of machine.)
 */
async function dockerLayerSize(blob: string): Promise<number> {
  let total = 0;
  const x = extract();
  x.on("entry", (header, stream, next) => {
    if (header.type === "file") total += header.size ?? 0;
    else if (header.type === "symlink") total += Buffer.byteLength(header.linkname ?? "");
    stream.on("end", next);
    stream.resume();
  });
  await pipeline(createReadStream(blob), createGunzip(), x);
  return total;
}

/** The busybox fixture's one layer blob in the OCI layout. */
async function busyboxLayerBlob(): Promise<string> {
  const layout = fixtureLayout();
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === "busybox-1",
  )!;
  const manifest = JSON.parse(
    await readFile(join(layout, "blobs/sha256", entry.digest.slice(7)), "utf8"),
  ) as { layers: { digest: string }[] };
  return join(layout, "blobs/sha256", manifest.layers[0]!.digest.slice(7));
}

/** berth run from another working directory (relative paths are the caller's). */
function berthIn(cwd: string, root: string, args: string[]) {
  return run("sh", [
    "-c",
    'cd "$1" && shift && exec "$@"',
    "sh",
    cwd,
    process.execPath,
    BERTH_BIN,
    "--root",
    root,
    ...args,
  ]);
}

/** The supplementary groups of a process, from /proc/PID/status, sorted. */
function groupsOf(status: string): number[] {
  const line = status.split("\n").find((l) => l.startsWith("Groups:")) ?? "Groups:";
  return line
    .slice("Groups:".length)
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The keys of Docker 28's `docker container inspect` (API 1.48+: moby v28.2.2's InspectResponse,
 * HostConfig, Config, NetworkSettings and EndpointSettings, in their JSON order), for a container
 * created with no options. Keys Docker omits when empty are not here (Health, ExposedPorts,
 * Healthcheck, StopSignal, StopTimeout, Annotations, StorageOpt, Tmpfs, Sysctls, Mounts, Init,
 * KernelMemory, KernelMemoryTCP, SizeRw, SizeRootFs, ImageManifestDescriptor).
 */
const DOCKER_KEYS = {
  top: [
    "Id",
    "Created",
    "Path",
    "Args",
    "State",
    "Image",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
    "LogPath",
    "Name",
    "RestartCount",
    "Driver",
    "Platform",
    "MountLabel",
    "ProcessLabel",
    "AppArmorProfile",
    "ExecIDs",
    "HostConfig",
    "GraphDriver",
    "Mounts",
    "Config",
    "NetworkSettings",
  ],
  state: [
    "Status",
    "Running",
    "Paused",
    "Restarting",
    "OOMKilled",
    "Dead",
    "Pid",
    "ExitCode",
    "Error",
    "StartedAt",
    "FinishedAt",
  ],
  hostConfig: [
    "Binds",
    "ContainerIDFile",
    "LogConfig",
    "NetworkMode",
    "PortBindings",
    "RestartPolicy",
    "AutoRemove",
    "VolumeDriver",
    "VolumesFrom",
    "ConsoleSize",
    "CapAdd",
    "CapDrop",
    "CgroupnsMode",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "ExtraHosts",
    "GroupAdd",
    "IpcMode",
    "Cgroup",
    "Links",
    "OomScoreAdj",
    "PidMode",
    "Privileged",
    "PublishAllPorts",
    "ReadonlyRootfs",
    "SecurityOpt",
    "UTSMode",
    "UsernsMode",
    "ShmSize",
    "Runtime",
    "Isolation",
    "CpuShares",
    "Memory",
    "NanoCpus",
    "CgroupParent",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CpuPeriod",
    "CpuQuota",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetCpus",
    "CpusetMems",
    "Devices",
    "DeviceCgroupRules",
    "DeviceRequests",
    "MemoryReservation",
    "MemorySwap",
    "MemorySwappiness",
    "OomKillDisable",
    "PidsLimit",
    "Ulimits",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
    "MaskedPaths",
    "ReadonlyPaths",
  ],
  config: [
    "Hostname",
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Image",
    "Volumes",
    "WorkingDir",
    "Entrypoint",
    "OnBuild",
    "Labels",
  ],
  networkSettings: [
    "Bridge",
    "SandboxID",
    "SandboxKey",
    "Ports",
    "HairpinMode",
    "LinkLocalIPv6Address",
    "LinkLocalIPv6PrefixLen",
    "SecondaryIPAddresses",
    "SecondaryIPv6Addresses",
    "EndpointID",
    "Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "MacAddress",
    "Networks",
  ],
  endpoint: [
    "IPAMConfig",
    "Links",
    "Aliases",
    "MacAddress",
    "DriverOpts",
    "GwPriority",
    "NetworkID",
    "EndpointID",
    "Gateway",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "DNSNames",
  ],
};

/** `keys` with `extra` inserted right after `after` (or at the end). */
function withKeys(keys: string[], extra: [after: string | null, ...names: string[]][]): string[] {
  const out = [...keys];
  for (const [after, ...names] of extra) {
    const at = after === null ? out.length : out.indexOf(after) + 1;
    out.splice(at, 0, ...names);
  }
  return out;
}

/** The defects a new user found (issue 15, item 5), each through the CLI on real containers. */
describe("what a new user found (issue 15)", () => {
  let reg: Server;
  let busybox: string;
  let root: string;
  before(async () => {
    reg = await startBerthRegistry();
    busybox = `${reg.host}/fx/busybox:1`;
    await skopeo(["copy", `oci:${fixtureLayout()}:busybox-1`, `docker://${busybox}`]);
    root = await tempRoot("berth-newuser-");
    await berthOk(root, ["pull", "-q", busybox]);
  });
  after(async () => {
    const ids = (await berth(root, ["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(root, ["rm", "-f", ...ids]);
    await reg.stop();
  });

  test("rmi of a pulled tag a running container uses is refused: the tag and its repository's digest are one reference", async () => {
    const id = (
      await berthOk(root, ["run", "-d", "--network", "none", "--name", "holds-tag", busybox, "sleep", "1000"])
    ).stdout.trim();
    const imageId = (await inspect(root, "holds-tag")).Image as string;
    const r = await berth(root, ["rmi", busybox]);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(
      r.stderr,
      `Error response from daemon: conflict: unable to remove repository reference "${busybox}" (must force) - container ${id.slice(0, 12)} is using its referenced image ${imageId.slice(7, 19)}\n`,
    );
    assert.equal((await berthOk(root, ["images", "-q", busybox])).stdout.trim(), imageId.slice(7, 19));
    // A second tag makes the first one removable: the image keeps a name.
    await berthOk(root, ["tag", busybox, "second:1"]);
    assert.equal((await berthOk(root, ["rmi", "second:1"])).stdout, "Untagged: second:1\n");
    await berthOk(root, ["rm", "-f", "holds-tag"]);
  });

  test("sizes are file contents, as Docker's: WORKDIR 0B, a 9-byte COPY 9B, images SIZE the sum of the layers", async () => {
    const context = await tempDir("berth-newuser-ctx-");
    const group = "root:x:0:root\nwheel:x:10:root,app\naudio:x:29:app\napp:x:1000:\nnogroup:x:65534:\n";
    await writeFile(join(context, "nine.txt"), "123456789");
    await writeFile(join(context, "group"), group);
    await writeFile(
      join(context, "Dockerfile"),
      `FROM ${busybox}\nWORKDIR /app\nCOPY nine.txt .\nCOPY group /etc/group\n`,
    );
    await berthOk(root, ["build", "-q", "-t", "sized:1", context]);
    const history = (
      await berthOk(root, ["history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", "sized:1"])
    ).stdout
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    assert.match(history[0]![0]!, /^COPY group \/etc\/group/);
    assert.equal(history[0]![1], `${group.length}B`);
    assert.match(history[1]![0]!, /^COPY nine.txt \./);
    assert.equal(history[1]![1], "9B", "a 9-byte COPY");
    assert.match(history[2]![0]!, /^WORKDIR \/app/);
    assert.equal(history[2]![1], "0B", "a layer with only a directory");
    const base = await dockerLayerSize(await busyboxLayerBlob());
    const bytes = (img: string) =>
      berthOk(root, ["image", "inspect", "--format", "{{.Size}}", img]).then((r) => Number(r.stdout));
    assert.equal(await bytes(busybox), base);
    assert.equal(await bytes("sized:1"), base + 9 + group.length);
    const listed = (await berthOk(root, ["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"])).stdout;
    assert.match(listed, new RegExp(`^sized:1 ${humanSize3(base + 9 + group.length)}$`, "m"));
    const raw = (await berthOk(root, ["history", "-H=false", "--format", "{{.Size}}", "sized:1"])).stdout;
    assert.deepEqual(raw.trim().split("\n").slice(0, 3), [String(group.length), "9", "0"]);
    // A container's own layer counts the same way: 9 bytes and a 2-byte link target.
    await berthOk(root, [
      "run",
      "--name",
      "writer",
      "--network",
      "none",
      busybox,
      "sh",
      "-c",
      "printf 123456789 > /f; ln -s /f /l",
    ]);
    const size = (await berthOk(root, ["ps", "-a", "-s", "--filter", "name=writer", "--format", "{{.Size}}"]))
      .stdout;
    assert.match(size, /^11B \(virtual /);
    await berthOk(root, ["rm", "writer"]);
  });

  test("a store from before keeps no tar-byte sizes: they are counted again once", async () => {
    const old = await tempRoot("berth-newuser-old-");
    await berthOk(old, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
    // What a store of schema 3 held: each layer's tar bytes as its size.
    const { createRequire } = await import("node:module");
    const Database = createRequire(import.meta.url)("better-sqlite3") as typeof import("better-sqlite3");
    const db = new Database(join(old, "berth.db"));
    db.exec("UPDATE layers SET size = 2128384; UPDATE images SET size = 2128384");
    db.pragma("user_version = 3");
    db.close();
    const base = await dockerLayerSize(await busyboxLayerBlob());
    assert.equal(
      (await berthOk(old, ["image", "inspect", "--format", "{{.Size}}", "busybox:1"])).stdout.trim(),
      String(base),
    );
    assert.equal((await berthOk(old, ["images", "--format", "{{.Size}}"])).stdout.trim(), humanSize3(base));
  });

  test("-v ./dir:/x and --mount src=./dir take the path from the working directory, as docker CLI 28", async () => {
    const cwd = await tempDir("berth-newuser-cwd-");
    await mkdir(join(cwd, "dir"));
    await writeFile(join(cwd, "dir/file"), "relative\n");
    const r = await berthIn(cwd, root, [
      "run",
      "--rm",
      "--network",
      "none",
      "-v",
      "./dir:/x:ro",
      busybox,
      "cat",
      "/x/file",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "relative\n");
    const m = await berthIn(cwd, root, [
      "run",
      "--rm",
      "--network",
      "none",
      "--mount",
      "type=bind,src=./dir,dst=/y",
      busybox,
      "cat",
      "/y/file",
    ]);
    assert.equal(m.stdout, "relative\n", m.stderr);
    // -v creates a missing host directory, here under the working directory.
    const c = await berthIn(cwd, root, ["create", "--name", "rel-bind", "-v", "./made:/z", busybox, "true"]);
    assert.equal(c.code, 0, c.stderr);
    assert.ok((await stat(join(cwd, "made"))).isDirectory());
    assert.deepEqual((await inspect(root, "rel-bind")).HostConfig.Binds, [`${join(cwd, "made")}:/z`]);
    await berthOk(root, ["rm", "rel-bind"]);
  });

  test("ps IMAGE shows the image ID once the name the container was made from is gone or means another image", async () => {
    await berthOk(root, ["tag", busybox, "psname:1"]);
    await berthOk(root, ["create", "--name", "by-name", "psname:1", "true"]);
    const image = (await inspect(root, "by-name")).Image as string;
    const shown = async (flags: string[] = []) =>
      (
        await berthOk(root, ["ps", "-a", ...flags, "--filter", "name=by-name", "--format", "{{.Image}}"])
      ).stdout.trim();
    assert.equal(await shown(), "psname:1");
    await berthOk(root, ["rmi", "psname:1"]);
    assert.equal(await shown(), image.slice(7, 19));
    assert.equal(await shown(["--no-trunc"]), image);
    // The name back, on another image: still the ID (the container's image is not what it names).
    await berthOk(root, ["load", "-q", "-i", fixtureLayout()]);
    const other = (
      await berthOk(root, ["images", "-q", "--filter", "label=org.opencontainers.image.title=app"])
    ).stdout.trim();
    await berthOk(root, ["tag", other, "psname:1"]);
    assert.equal(await shown(), image.slice(7, 19));
    assert.equal(
      (await inspect(root, "by-name")).Config.Image,
      "psname:1",
      "inspect keeps the name as given",
    );
    await berthOk(root, ["rm", "by-name"]);
  });

  test("HostConfig.Binds lists named volumes and binds as given; anonymous volumes are Config.Volumes, --mount HostConfig.Mounts", async () => {
    const host = await tempDir("berth-newuser-bind-");
    await berthOk(root, [
      "create",
      "--name",
      "binds",
      "-v",
      "newuser-named:/data",
      "-v",
      `${host}:/host:ro`,
      "-v",
      "/anon",
      "--mount",
      `type=bind,source=${host},target=/m,readonly`,
      "--mount",
      "type=volume,source=newuser-named,target=/v",
      busybox,
      "true",
    ]);
    const c = await inspect(root, "binds");
    assert.deepEqual(c.HostConfig.Binds, ["newuser-named:/data", `${host}:/host:ro`]);
    assert.deepEqual(c.Config.Volumes, { "/anon": {} });
    assert.deepEqual(c.HostConfig.Mounts, [
      { Type: "bind", Source: host, Target: "/m", ReadOnly: true },
      { Type: "volume", Source: "newuser-named", Target: "/v" },
    ]);
    await berthOk(root, ["rm", "-v", "binds"]);
  });

  test("exec -t sets TERM=xterm (and exec without -t does not), as docker exec", async () => {
    await berthOk(root, ["run", "-d", "--network", "none", "--name", "term", busybox, "sleep", "1000"]);
    // Through a file: what a process prints on a pseudo-terminal just before it exits may be lost.
    const tty = await run("script", [
      "-qec",
      `${process.execPath} ${BERTH_BIN} --root ${root} exec -t term sh -c 'echo "TERM=$TERM" > /tmp/term'`,
      "/dev/null",
    ]);
    assert.equal(tty.code, 0, tty.stdout);
    assert.equal((await berthOk(root, ["exec", "term", "cat", "/tmp/term"])).stdout, "TERM=xterm\n");
    assert.equal((await berthOk(root, ["exec", "term", "sh", "-c", 'echo "TERM=$TERM"'])).stdout, "TERM=\n");
    await berthOk(root, ["rm", "-f", "term"]);
  });

  test("-u UID gets the user's groups from the container's /etc/group, with its gid first, as Docker's", async () => {
    // sized:1 (built above) has: wheel:x:10:root,app  audio:x:29:app  app:x:1000:
    const groups = async (args: string[]) =>
      groupsOf(
        (
          await berthOk(root, [
            "run",
            "--rm",
            "--network",
            "none",
            ...args,
            "sized:1",
            "cat",
            "/proc/self/status",
          ])
        ).stdout,
      );
    assert.deepEqual(await groups(["-u", "1000"]), [10, 29, 1000]);
    assert.deepEqual(await groups(["-u", "app"]), [10, 29, 1000]);
    assert.deepEqual(await groups(["-u", "1000:1000"]), [1000], "an explicit group: only it");
    assert.deepEqual(await groups(["-u", "4242"]), [0], "a uid without an entry: gid 0");
    assert.deepEqual(await groups([]), [0, 10], "root: its gid, and the groups listing root");
    await berthOk(root, ["run", "-d", "--network", "none", "--name", "grp", "sized:1", "sleep", "1000"]);
    assert.deepEqual(
      groupsOf((await berthOk(root, ["exec", "-u", "1000", "grp", "cat", "/proc/self/status"])).stdout),
      [10, 29, 1000],
    );
    await berthOk(root, ["rm", "-f", "grp"]);
  });

  test("restart keeps State.FinishedAt of the run before, as Docker's", async () => {
    await berthOk(root, ["run", "-d", "--network", "none", "--name", "again", busybox, "sleep", "1000"]);
    await berthOk(root, ["stop", "-t", "0", "again"]);
    const first = (await inspect(root, "again")).State.FinishedAt as string;
    assert.notEqual(first, ZERO_TIME);
    await berthOk(root, ["start", "again"]);
    const started = (await inspect(root, "again")).State;
    assert.equal(started.Running, true);
    assert.equal(started.FinishedAt, first, "start keeps it");
    await berthOk(root, ["restart", "-t", "0", "again"]);
    const restarted = (await inspect(root, "again")).State;
    assert.equal(restarted.Running, true);
    assert.notEqual(restarted.FinishedAt, ZERO_TIME);
    assert.ok(Date.parse(restarted.FinishedAt) >= Date.parse(first), "the end of the run restart stopped");
    await berthOk(root, ["rm", "-f", "again"]);
  });

  test("export -o and save -o write mode 0600; the output path is checked before the container or image", async () => {
    const out = await tempDir("berth-newuser-out-");
    await berthOk(root, ["create", "--name", "exported", busybox, "true"]);
    await berthOk(root, ["export", "-o", join(out, "c.tar"), "exported"]);
    assert.equal((await stat(join(out, "c.tar"))).mode & 0o777, 0o600);
    await berthOk(root, ["save", "-o", join(out, "i.tar"), busybox]);
    assert.equal((await stat(join(out, "i.tar"))).mode & 0o777, 0o600);
    const save = await berth(root, ["save", "-o", "/nonexistent/dir/x.tar", "nosuch:1"]);
    assert.equal(save.code, 1);
    assert.equal(
      save.stderr,
      "Error: failed to save image: invalid output path: stat /nonexistent/dir: no such file or directory\n",
    );
    const exp = await berth(root, ["export", "-o", "/nonexistent/dir/x.tar", "nosuch"]);
    assert.equal(exp.code, 1);
    assert.equal(
      exp.stderr,
      "Error: failed to export container: invalid output path: stat /nonexistent/dir: no such file or directory\n",
    );
    const missing = await berth(root, ["export", "-o", join(out, "none.tar"), "nosuch"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: nosuch/);
    await stat(join(out, "none.tar")).then(
      () => assert.fail("no file is left for a failed export"),
      () => {},
    );
    await berthOk(root, ["rm", "exported"]);
  });

  test("inspect has every field of Docker 28's, in its order, with Docker's zero values", async () => {
    await berthOk(root, ["create", "--name", "plain", busybox, "true"]);
    const c = await inspect(root, "plain");
    assert.deepEqual(Object.keys(c), DOCKER_KEYS.top);
    assert.deepEqual(Object.keys(c.State), DOCKER_KEYS.state);
    assert.deepEqual(Object.keys(c.HostConfig), DOCKER_KEYS.hostConfig);
    assert.deepEqual(Object.keys(c.Config), DOCKER_KEYS.config);
    assert.deepEqual(Object.keys(c.NetworkSettings), DOCKER_KEYS.networkSettings);
    assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ["bridge"]);
    assert.deepEqual(Object.keys(c.NetworkSettings.Networks.bridge), DOCKER_KEYS.endpoint);
    const h = c.HostConfig;
    // Docker's zero values as it prints them: null for what was never set, [] where docker's CLI
    // sends an empty list, Docker's defaults where the container has them.
    for (const k of ["Binds", "VolumesFrom", "CapAdd", "CapDrop", "ExtraHosts", "GroupAdd", "Links"])
      assert.equal(h[k], null, k);
    for (const k of ["SecurityOpt", "DeviceCgroupRules", "DeviceRequests", "MemorySwappiness", "PidsLimit"])
      assert.equal(h[k], null, k);
    for (const k of ["Dns", "DnsOptions", "DnsSearch", "Devices", "Ulimits", "BlkioWeightDevice"])
      assert.deepEqual(h[k], [], k);
    for (const k of ["ContainerIDFile", "VolumeDriver", "Cgroup", "PidMode", "UTSMode", "UsernsMode"])
      assert.equal(h[k], "", k);
    assert.deepEqual(h.LogConfig, { Type: "k8s-file", Config: {} });
    assert.equal(h.NetworkMode, "bridge");
    assert.deepEqual(h.PortBindings, {});
    assert.deepEqual(h.RestartPolicy, { Name: "no", MaximumRetryCount: 0 });
    assert.deepEqual(h.ConsoleSize, [0, 0]);
    assert.equal(h.ShmSize, 64 * 1024 * 1024);
    assert.equal(h.Privileged, false);
    assert.equal(h.OomKillDisable, false);
    assert.equal(h.IpcMode, "private");
    assert.equal(h.Runtime, "runc");
    assert.ok(h.MaskedPaths.includes("/proc/kcore") && h.MaskedPaths.includes("/sys/firmware"));
    assert.deepEqual(h.ReadonlyPaths, [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger",
    ]);
    assert.equal(c.ExecIDs, null);
    assert.equal(c.Config.Volumes, null);
    assert.equal(c.Config.OnBuild, null);
    assert.deepEqual(c.Config.Env, ["PATH=/bin"], "the image's and the flags' only: no HOSTNAME");
    assert.equal(c.Config.AttachStdout, true);
    assert.deepEqual(c.NetworkSettings.Ports, {});
    assert.equal(c.NetworkSettings.SecondaryIPAddresses, null);
    assert.equal(c.NetworkSettings.Networks.bridge.IPAMConfig, null);
    assert.equal(c.NetworkSettings.Networks.bridge.DNSNames, null);

    // With the options that add keys Docker omits when empty, each lands in Docker's place.
    const host = await tempDir("berth-newuser-shape-");
    await berthOk(root, [
      "run",
      "-d",
      "--name",
      "dressed",
      "-p",
      "127.0.0.1::80",
      "--mount",
      `type=bind,src=${host},dst=/m`,
      "--init",
      "--stop-signal",
      "SIGINT",
      "--stop-timeout",
      "3",
      "-e",
      "A=b",
      busybox,
      "sleep",
      "1000",
    ]);
    const d = await inspect(root, "dressed");
    assert.deepEqual(
      Object.keys(d.HostConfig),
      withKeys(DOCKER_KEYS.hostConfig, [
        ["IOMaximumBandwidth", "Mounts"],
        [null, "Init"],
      ]),
    );
    assert.deepEqual(
      Object.keys(d.Config),
      withKeys(DOCKER_KEYS.config, [
        ["AttachStderr", "ExposedPorts"],
        [null, "StopSignal", "StopTimeout"],
      ]),
    );
    assert.deepEqual(d.Config.ExposedPorts, { "80/tcp": {} }, "a published port is exposed");
    assert.equal(d.Config.StopSignal, "SIGINT");
    assert.equal(d.Config.StopTimeout, 3);
    assert.deepEqual(d.Config.Env, ["A=b", "PATH=/bin"], "the flags' entries, then the image's");
    assert.deepEqual(
      [d.Config.AttachStdin, d.Config.AttachStdout, d.Config.AttachStderr],
      [false, false, false],
    );
    assert.equal(d.HostConfig.Init, true);
    const bridge = d.NetworkSettings.Networks.bridge;
    assert.equal(bridge.IPAddress, "10.0.2.100");
    assert.equal(d.NetworkSettings.IPAddress, bridge.IPAddress, "the bridge endpoint's copy at the top");
    assert.match(d.NetworkSettings.Ports["80/tcp"][0].HostPort, /^\d+$/);
    await berthOk(root, ["rm", "-f", "plain", "dressed"]);
  });

  test("run of an image the registry does not have prints no 'Pulling from' line", async () => {
    const r = await berth(root, ["run", "--rm", `${reg.host}/fx/nosuch:1`, "true"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`^Unable to find image '${reg.host}/fx/nosuch:1' locally\\n`));
    assert.doesNotMatch(r.stderr, /Pulling from/);
    assert.match(r.stderr, /manifest unknown/);
  });
});
