import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CAPABILITIES, DEFAULT_NAMESPACES, defaultMounts } from "../../src/runtime/defaults.js";
import { RuntimeUsageError } from "../../src/runtime/errors.js";
import type { RuntimeSpec } from "../../src/runtime/oci-spec.js";
import {
  derivedSpec,
  newSpec,
  type SpecOpt,
  withAnnotations,
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
} from "../../src/runtime/spec-opts.js";

/** One option (or a few, in order) and what it makes of the spec: no I/O anywhere. */
interface Case {
  name: string;
  opts: SpecOpt[];
  /** The part of the spec the options concern, and what it must be. */
  pick: (s: RuntimeSpec) => unknown;
  want: unknown;
}

const types = (s: RuntimeSpec) => s.linux.namespaces.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));
const mount = (dest: string) => (s: RuntimeSpec) => s.mounts.find((m) => m.destination === dest);
const dests = (s: RuntimeSpec) => s.mounts.map((m) => m.destination);

const cases: Case[] = [
  {
    name: "the skeleton: nothing of its own, every device denied",
    opts: [],
    pick: (s) => ({
      args: s.process.args,
      caps: s.process.capabilities,
      ns: s.linux.namespaces,
      mounts: s.mounts,
      devices: s.linux.resources.devices,
      root: s.root,
      nnp: s.process.noNewPrivileges,
    }),
    want: {
      args: [],
      caps: { bounding: [], effective: [], permitted: [] },
      ns: [],
      mounts: [],
      devices: [{ allow: false, access: "rwm" }],
      root: { path: "", readonly: false },
      nnp: false,
    },
  },
  {
    name: "withRootfs",
    opts: [withRootfs("/c/merged", true)],
    pick: (s) => s.root,
    want: { path: "/c/merged", readonly: true },
  },
  {
    name: "withProcessArgs",
    opts: [withProcessArgs(["sh", "-c", "echo hi"])],
    pick: (s) => s.process.args,
    want: ["sh", "-c", "echo hi"],
  },
  {
    name: "withEnv",
    opts: [withEnv(["PATH=/bin", "A=1"])],
    pick: (s) => s.process.env,
    want: ["PATH=/bin", "A=1"],
  },
  { name: "withCwd", opts: [withCwd("/srv/app")], pick: (s) => s.process.cwd, want: "/srv/app" },
  { name: "withTerminal", opts: [withTerminal(true)], pick: (s) => s.process.terminal, want: true },
  {
    name: "withUser with supplementary groups",
    opts: [withUser({ uid: 1000, gid: 100, additionalGids: [10, 20] })],
    pick: (s) => s.process.user,
    want: { uid: 1000, gid: 100, additionalGids: [10, 20] },
  },
  {
    name: "withUser without groups has no additionalGids",
    opts: [withUser({ uid: 0, gid: 0, additionalGids: [] })],
    pick: (s) => s.process.user,
    want: { uid: 0, gid: 0 },
  },
  {
    name: "withCapabilities: bounding, effective and permitted; no inheritable",
    opts: [withCapabilities(["CAP_CHOWN", "CAP_KILL"])],
    pick: (s) => s.process.capabilities,
    want: {
      bounding: ["CAP_CHOWN", "CAP_KILL"],
      effective: ["CAP_CHOWN", "CAP_KILL"],
      permitted: ["CAP_CHOWN", "CAP_KILL"],
    },
  },
  {
    name: "the later of two options on one field wins",
    opts: [withCapabilities(DEFAULT_CAPABILITIES), withCapabilities(["CAP_KILL"])],
    pick: (s) => s.process.capabilities.bounding,
    want: ["CAP_KILL"],
  },
  {
    name: "withInit runs tini as pid 1 in front of the command, mounted read-only",
    opts: [withProcessArgs(["sleep", "1"]), withInit("/usr/bin/tini-static")],
    pick: (s) => ({ args: s.process.args, mount: mount("/sbin/docker-init")(s) }),
    want: {
      args: ["/sbin/docker-init", "--", "sleep", "1"],
      mount: {
        destination: "/sbin/docker-init",
        type: "bind",
        source: "/usr/bin/tini-static",
        options: ["bind", "ro"],
      },
    },
  },
  {
    name: "withMounts appends the default filesystems",
    opts: [withMounts(defaultMounts())],
    pick: dests,
    want: ["/proc", "/dev", "/sys", "/dev/pts", "/dev/mqueue", "/dev/shm", "/sys/fs/cgroup"],
  },
  {
    name: "withBindMounts: recursive, private, read-only when asked",
    opts: [
      withBindMounts([
        { source: "/h/a", destination: "/a", readOnly: true },
        { source: "/h/b", destination: "/b", readOnly: false },
      ]),
    ],
    pick: (s) => s.mounts.map((m) => [m.destination, m.type, m.source, m.options.join(",")]),
    want: [
      ["/a", "bind", "/h/a", "rbind,rprivate,ro"],
      ["/b", "bind", "/h/b", "rbind,rprivate"],
    ],
  },
  {
    name: "mounts are sorted parents first, whatever the order they were given in",
    opts: [
      withBindMounts([{ source: "/h/inner", destination: "/data/inner", readOnly: false }]),
      withBindMounts([{ source: "/h/data", destination: "/data", readOnly: false }]),
    ],
    pick: dests,
    want: ["/data", "/data/inner"],
  },
  {
    name: "withEtcFiles: only the files given",
    opts: [withEtcFiles({ hosts: "/b/hosts" })],
    pick: (s) => s.mounts,
    want: [{ destination: "/etc/hosts", type: "bind", source: "/b/hosts", options: ["rbind", "rprivate"] }],
  },
  {
    name: "withEtcFiles: all three",
    opts: [withEtcFiles({ hosts: "/b/h", hostname: "/b/n", resolvConf: "/b/r" })],
    pick: (s) => s.mounts.map((m) => `${m.destination}<${m.source}`),
    want: ["/etc/resolv.conf</b/r", "/etc/hostname</b/n", "/etc/hosts</b/h"],
  },
  {
    name: "withMaskedPaths",
    opts: [withMaskedPaths(["/proc/kcore"], ["/proc/sys"])],
    pick: (s) => [s.linux.maskedPaths, s.linux.readonlyPaths],
    want: [["/proc/kcore"], ["/proc/sys"]],
  },
  {
    name: "withNamespaces: new ones, no paths",
    opts: [withNamespaces(DEFAULT_NAMESPACES)],
    pick: types,
    want: ["pid", "ipc", "uts", "mount", "cgroup"],
  },
  {
    name: 'withNetwork "none": a new network namespace, after pid',
    opts: [withNamespaces(DEFAULT_NAMESPACES), withNetwork("none")],
    pick: types,
    want: ["pid", "network", "ipc", "uts", "mount", "cgroup"],
  },
  {
    name: 'withNetwork "default": the namespace made beforehand, by its path',
    opts: [withNamespaces(DEFAULT_NAMESPACES), withNetwork("default", "/run/netns/berth-x")],
    pick: types,
    want: ["pid", "network=/run/netns/berth-x", "ipc", "uts", "mount", "cgroup"],
  },
  {
    name: 'withNetwork "default" without a path: a new one',
    opts: [withNamespaces(["pid"]), withNetwork("default")],
    pick: types,
    want: ["pid", "network"],
  },
  {
    name: 'withNetwork "host": the host\'s namespace, and its /sys read-only',
    opts: [withMounts(defaultMounts()), withNamespaces(DEFAULT_NAMESPACES), withNetwork("host")],
    pick: (s) => ({ ns: types(s), sys: mount("/sys")(s) }),
    want: {
      ns: ["pid", "ipc", "uts", "mount", "cgroup"],
      sys: {
        destination: "/sys",
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      },
    },
  },
  {
    name: "withNetwork twice: the last mode, one network namespace",
    opts: [withNamespaces(DEFAULT_NAMESPACES), withNetwork("default", "/run/netns/a"), withNetwork("none")],
    pick: types,
    want: ["pid", "network", "ipc", "uts", "mount", "cgroup"],
  },
  { name: "withHostname", opts: [withHostname("web-1")], pick: (s) => s.hostname, want: "web-1" },
  {
    name: "withResources: memory, CPU quota per 100 ms, pids; device rules untouched",
    opts: [withResources({ memory: 64 * 1024 * 1024, cpus: 1.5, pidsLimit: 50 })],
    pick: (s) => s.linux.resources,
    want: {
      devices: [{ allow: false, access: "rwm" }],
      memory: { limit: 67108864 },
      cpu: { quota: 150000, period: 100000 },
      pids: { limit: 50 },
    },
  },
  {
    name: "withResources: no limits, and a pids limit of 0 or -1 is none",
    opts: [withResources({ pidsLimit: -1 })],
    pick: (s) => s.linux.resources,
    want: { devices: [{ allow: false, access: "rwm" }] },
  },
  {
    name: "withCgroupsPath",
    opts: [withCgroupsPath("berth-abc")],
    pick: (s) => s.linux.cgroupsPath,
    want: "berth-abc",
  },
  {
    name: "withAnnotations adds to what is there",
    opts: [withAnnotations({ a: "1" }), withAnnotations({ b: "2" })],
    pick: (s) => s.annotations,
    want: { a: "1", b: "2" },
  },
];

describe("spec options, one at a time (containerd's SpecOpts)", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(c.pick(newSpec(...c.opts)), c.want);
    });
  }
});

describe("spec options refuse what the runtime cannot use", () => {
  const refused: { name: string; opt: SpecOpt; message: RegExp }[] = [
    {
      name: "a relative working directory",
      opt: withCwd("srv"),
      message: /'srv' is invalid, it needs to be an absolute path/,
    },
    {
      name: "a relative mount destination",
      opt: withBindMounts([{ source: "/a", destination: "rel", readOnly: false }]),
      message: /mount path must be absolute: rel/,
    },
    {
      name: "memory under 6 MB",
      opt: withResources({ memory: 1024 }),
      message: /Minimum memory limit allowed is 6MB/,
    },
    { name: "no CPUs", opt: withResources({ cpus: 0 }), message: /for "--cpus" flag/ },
  ];
  for (const r of refused) {
    it(r.name, () => {
      assert.throws(
        () => newSpec(r.opt),
        (err: unknown) =>
          err instanceof RuntimeUsageError && err.exitCode === 125 && r.message.test(err.message),
      );
    });
  }
});

describe("derivedSpec", () => {
  it("applies options to a copy: the base spec is not changed (an exec's process from its container's spec)", () => {
    const base = newSpec(
      withProcessArgs(["sh"]),
      withEnv(["A=1"]),
      withCapabilities(["CAP_KILL"]),
      withCwd("/"),
    );
    const before = structuredClone(base);
    const exec = derivedSpec(
      base,
      withProcessArgs(["id"]),
      withEnv(["A=2"]),
      withCwd("/tmp"),
      withTerminal(true),
    );
    assert.deepEqual(base, before);
    assert.deepEqual(exec.process.args, ["id"]);
    assert.deepEqual(exec.process.env, ["A=2"]);
    assert.equal(exec.process.cwd, "/tmp");
    assert.equal(exec.process.terminal, true);
    assert.deepEqual(
      exec.process.capabilities.bounding,
      ["CAP_KILL"],
      "what the options do not touch is the base's",
    );
  });
  it("the default mounts are copied, not shared: changing one spec's leaves the next one's", () => {
    const a = newSpec(withMounts(defaultMounts()));
    a.mounts[0]!.options.push("changed");
    const b = newSpec(withMounts(defaultMounts()));
    assert.ok(!b.mounts[0]!.options.includes("changed"));
  });
});
