import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerConfig } from "../../src/oci/manifest.js";
import { RuntimeUsageError } from "../../src/runtime/errors.js";
import {
  buildSpec,
  containerCommand,
  containerEnv,
  mergeEnv,
  type SpecInput,
} from "../../src/runtime/spec.js";

const root = { uid: 0, gid: 0, additionalGids: [], home: "/root" };

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: "/x/merged",
    args: ["sh"],
    env: ["PATH=/bin"],
    cwd: "/",
    user: root,
    hostname: "0123456789ab",
    tty: false,
    readOnly: false,
    network: "private",
    mounts: [],
    limits: {},
    cgroupsPath: "berth-0123",
    ...over,
  };
}

describe("containerCommand: entrypoint and cmd as Docker composes them", () => {
  const cases: {
    name: string;
    image: ContainerConfig;
    cmd: string[];
    entrypoint?: string;
    want: string[] | "error";
  }[] = [
    { name: "image cmd", image: { Cmd: ["sh"] }, cmd: [], want: ["sh"] },
    { name: "flag args replace cmd", image: { Cmd: ["sh"] }, cmd: ["echo", "hi"], want: ["echo", "hi"] },
    {
      name: "entrypoint + cmd",
      image: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo x"] },
      cmd: [],
      want: ["/bin/sh", "-c", "echo x"],
    },
    {
      name: "entrypoint + args",
      image: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo x"] },
      cmd: ["id"],
      want: ["/bin/sh", "-c", "id"],
    },
    {
      name: "--entrypoint resets the image cmd",
      image: { Entrypoint: ["a"], Cmd: ["b"] },
      cmd: [],
      entrypoint: "env",
      want: ["env"],
    },
    {
      name: "--entrypoint with args",
      image: { Cmd: ["b"] },
      cmd: ["-0"],
      entrypoint: "env",
      want: ["env", "-0"],
    },
    {
      name: '--entrypoint "" clears it',
      image: { Entrypoint: ["a"], Cmd: ["b"] },
      cmd: ["ls"],
      entrypoint: "",
      want: ["ls"],
    },
    { name: "nothing to run", image: {}, cmd: [], want: "error" },
    { name: "null cmd", image: { Cmd: null, Entrypoint: null }, cmd: [], want: "error" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const flags = { cmd: c.cmd, entrypoint: c.entrypoint, env: [], tty: false };
      if (c.want === "error") assert.throws(() => containerCommand(c.image, flags), /No command specified/);
      else assert.deepEqual(containerCommand(c.image, flags), c.want);
    });
  }
});

describe("environment", () => {
  it("mergeEnv replaces by key, appends new keys, and removes a bare KEY", () => {
    assert.deepEqual(mergeEnv(["A=1", "B=2"], ["B=3", "C=4"]), ["A=1", "B=3", "C=4"]);
    assert.deepEqual(mergeEnv(["A=1", "B=2"], ["A"]), ["B=2"]);
    assert.deepEqual(mergeEnv(["A=1"], ["A=x=y"]), ["A=x=y"]);
  });
  it("PATH and HOSTNAME first, TERM with a tty, the image's then the flags' entries", () => {
    assert.deepEqual(
      containerEnv({ Env: ["PATH=/bin", "APP=1"] }, { env: ["APP=2", "X=y"], tty: true }, "h1"),
      ["PATH=/bin", "HOSTNAME=h1", "TERM=xterm", "APP=2", "X=y"],
    );
    assert.deepEqual(containerEnv({}, { env: [], tty: false }, "h2"), [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=h2",
    ]);
  });
});

describe("buildSpec", () => {
  it("Docker's defaults: 14 capabilities, masked and read-only paths, namespaces, hostname", () => {
    const s = buildSpec(input());
    assert.equal(s.process.capabilities.bounding.length, 14);
    assert.ok(s.process.capabilities.bounding.includes("CAP_NET_BIND_SERVICE"));
    assert.ok(!s.process.capabilities.bounding.includes("CAP_SYS_ADMIN"));
    assert.ok(s.linux.maskedPaths.includes("/proc/kcore"));
    assert.ok(s.linux.readonlyPaths.includes("/proc/sys"));
    assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), [
      "cgroup",
      "ipc",
      "mount",
      "network",
      "pid",
      "uts",
    ]);
    assert.equal(s.hostname, "0123456789ab");
    assert.equal(s.root.path, "/x/merged");
    assert.equal(s.root.readonly, false);
    assert.equal(s.linux.cgroupsPath, "berth-0123");
    assert.equal(s.process.terminal, false);
  });
  it("--network host shares the host's network namespace and its /sys", () => {
    const s = buildSpec(input({ network: "host" }));
    assert.ok(!s.linux.namespaces.some((n) => n.type === "network"));
    const sys = s.mounts.find((m) => m.destination === "/sys")!;
    assert.equal(sys.type, "bind");
    assert.ok(sys.options.includes("ro"));
  });
  it("limits: --memory, --cpus, --pids-limit", () => {
    const s = buildSpec(input({ limits: { memory: 64 * 1024 * 1024, cpus: 1.5, pidsLimit: 50 } }));
    assert.deepEqual(s.linux.resources.memory, { limit: 67108864 });
    assert.deepEqual(s.linux.resources.cpu, { quota: 150000, period: 100000 });
    assert.deepEqual(s.linux.resources.pids, { limit: 50 });
    assert.equal(buildSpec(input()).linux.resources.memory, undefined);
    assert.throws(
      () => buildSpec(input({ limits: { memory: 1024 } })),
      /Minimum memory limit allowed is 6MB/,
    );
    assert.throws(() => buildSpec(input({ limits: { cpus: 0 } })), RuntimeUsageError);
  });
  it("user, groups, cwd, read-only root, tty", () => {
    const s = buildSpec(
      input({
        user: { uid: 1000, gid: 1000, additionalGids: [10], home: "/h" },
        cwd: "/srv",
        readOnly: true,
        tty: true,
      }),
    );
    assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [10] });
    assert.equal(s.process.cwd, "/srv");
    assert.equal(s.root.readonly, true);
    assert.equal(s.process.terminal, true);
    assert.throws(() => buildSpec(input({ cwd: "srv" })), /needs to be an absolute path/);
  });
  it("bind mounts after /etc files, parents before children; --init runs tini as pid 1", () => {
    const s = buildSpec(
      input({
        etc: { hosts: "/b/hosts", hostname: "/b/hostname", resolvConf: "/b/resolv.conf" },
        mounts: [
          { source: "/h/inner", destination: "/data/inner", readOnly: true },
          { source: "/h/data", destination: "/data", readOnly: false },
        ],
        init: "/usr/bin/tini-static",
      }),
    );
    const dests = s.mounts.map((m) => m.destination);
    assert.ok(dests.indexOf("/data") < dests.indexOf("/data/inner"));
    assert.ok(dests.indexOf("/dev") < dests.indexOf("/dev/pts"));
    assert.equal(s.mounts.find((m) => m.destination === "/etc/hosts")!.source, "/b/hosts");
    assert.ok(s.mounts.find((m) => m.destination === "/data/inner")!.options.includes("ro"));
    assert.ok(!s.mounts.find((m) => m.destination === "/data")!.options.includes("ro"));
    assert.deepEqual(s.process.args, ["/sbin/docker-init", "--", "sh"]);
    assert.equal(s.mounts.find((m) => m.destination === "/sbin/docker-init")!.source, "/usr/bin/tini-static");
    assert.throws(
      () => buildSpec(input({ mounts: [{ source: "/a", destination: "rel", readOnly: false }] })),
      /mount path must be absolute/,
    );
  });
});
