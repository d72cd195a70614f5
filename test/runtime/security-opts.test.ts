import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CAPABILITIES,
  capabilityNames,
  capabilitySet,
  normalizeCapabilities,
} from "../../src/runtime/capabilities.js";
import { DEFAULT_CAPABILITIES, defaultMounts } from "../../src/runtime/defaults.js";
import { DEFAULT_DEVICE_RULES, parseDeviceFlag } from "../../src/runtime/devices.js";
import { RuntimeUsageError } from "../../src/runtime/errors.js";
import type { RuntimeSpec } from "../../src/runtime/oci-spec.js";
import { type HostFacts, sandboxSpec } from "../../src/runtime/sandbox-spec.js";
import {
  compareVersions,
  DEFAULT_SECCOMP_PROFILE,
  nativeArch,
  parseSeccompProfile,
  seccompForSpec,
} from "../../src/runtime/seccomp/profile.js";
import { parseSecurityOptions } from "../../src/runtime/security.js";
import {
  withDefaultDevices,
  withDevices,
  withNoNewPrivileges,
  withPrivileged,
  withSeccomp,
  withUserNamespace,
} from "../../src/runtime/security-opts.js";
import type { SandboxSettings } from "../../src/runtime/settings.js";
import {
  newSpec,
  withCapabilities,
  withMaskedPaths,
  withMounts,
  withNamespaces,
  withNetwork,
} from "../../src/runtime/spec-opts.js";
import { allocateAuto, hostId, remapIdMap } from "../../src/runtime/userns.js";

/*
 * The isolation options and the rules they follow, with no I/O: Docker's capability arithmetic,
 * its seccomp profile conversion (capabilities, architectures, kernel versions), the device and
 * security-opt syntax, privileged mode, the user namespace and --userns=auto's allocation.
 */

const AMD64 = { arch: "amd64", kernel: "6.1.0" };
const allowed = (s: ReturnType<typeof seccompForSpec>, name: string) =>
  (s.syscalls ?? []).filter((r) => r.names.includes(name));

describe("capabilities", () => {
  const table: { name: string; add: string[]; drop: string[]; privileged?: boolean; want: string[] }[] = [
    { name: "the defaults", add: [], drop: [], want: [...DEFAULT_CAPABILITIES] },
    {
      name: "one dropped, one added",
      add: ["CAP_SYS_ADMIN"],
      drop: ["CAP_CHOWN"],
      want: [...DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN"), "CAP_SYS_ADMIN"],
    },
    { name: "drop ALL keeps only the added", add: ["CAP_KILL"], drop: ["ALL"], want: ["CAP_KILL"] },
    { name: "drop ALL", add: [], drop: ["ALL"], want: [] },
    {
      name: "add ALL, less the dropped",
      add: ["ALL"],
      drop: ["CAP_SYS_ADMIN"],
      want: CAPABILITIES.filter((c) => c !== "CAP_SYS_ADMIN"),
    },
    {
      name: "privileged: everything, whatever is dropped",
      add: [],
      drop: ["ALL"],
      privileged: true,
      want: [...CAPABILITIES],
    },
    {
      name: "adding a default twice keeps one",
      add: ["CAP_KILL"],
      drop: [],
      want: [...DEFAULT_CAPABILITIES],
    },
  ];
  for (const c of table)
    it(c.name, () => assert.deepEqual(capabilitySet(c.add, c.drop, c.privileged ?? false), c.want));

  it("names are normalized as Docker's daemon does; unknown ones are its error", () => {
    assert.deepEqual(normalizeCapabilities(["net_admin", "CAP_KILL", "all", "Sys_Ptrace"], "CapAdd"), [
      "CAP_NET_ADMIN",
      "CAP_KILL",
      "ALL",
      "CAP_SYS_PTRACE",
    ]);
    assert.throws(
      () => normalizeCapabilities(["CAP_FOO"], "CapAdd"),
      (e: Error) =>
        e instanceof RuntimeUsageError && e.message === 'invalid CapAdd: unknown capability: "CAP_FOO"',
    );
    assert.throws(
      () => normalizeCapabilities(["bar"], "CapDrop"),
      /invalid CapDrop: unknown capability: "CAP_BAR"/,
    );
  });

  it("a mask names its capabilities (Docker's defaults are 0xa80425fb)", () => {
    assert.deepEqual(capabilityNames("a80425fb").sort(), [...DEFAULT_CAPABILITIES].sort());
    assert.deepEqual(capabilityNames("0"), []);
  });
});

describe("seccomp profiles", () => {
  const docker = (caps: readonly string[], host = AMD64) =>
    seccompForSpec(DEFAULT_SECCOMP_PROFILE, { ...host, capabilities: caps });

  it("the default: EPERM for anything unnamed, x86_64 with i386 and x32", () => {
    const s = docker(DEFAULT_CAPABILITIES);
    assert.equal(s.defaultAction, "SCMP_ACT_ERRNO");
    assert.equal(s.defaultErrnoRet, 1);
    assert.deepEqual(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    assert.deepEqual(
      seccompForSpec(DEFAULT_SECCOMP_PROFILE, { arch: "arm64", kernel: "6.1", capabilities: [] })
        .architectures,
      ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    );
    for (const refused of [
      "keyctl",
      "add_key",
      "request_key",
      "kexec_load",
      "pivot_root",
      "userfaultfd",
      "io_uring_setup",
    ])
      assert.deepEqual(allowed(s, refused), [], refused);
    for (const ok of ["read", "openat", "clone", "execve", "arch_prctl", "modify_ldt", "ptrace"])
      assert.ok(allowed(s, ok).length > 0, ok);
    assert.deepEqual(allowed(s, "s390_runtime_instr"), [], "another architecture's calls are left out");
  });

  it("capability-gated syscalls follow the bounding set", () => {
    for (const [cap, names] of [
      ["CAP_SYS_ADMIN", ["mount", "umount2", "unshare", "setns", "bpf", "sethostname", "fsopen"]],
      ["CAP_SYS_BOOT", ["reboot"]],
      ["CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]],
      ["CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]],
      ["CAP_DAC_READ_SEARCH", ["open_by_handle_at"]],
      ["CAP_SYS_TIME", ["settimeofday", "clock_settime"]],
      ["CAP_SYSLOG", ["syslog"]],
      ["CAP_BPF", ["bpf"]],
      ["CAP_PERFMON", ["perf_event_open"]],
    ] as const) {
      for (const n of names) {
        assert.deepEqual(allowed(docker(DEFAULT_CAPABILITIES), n), [], `${n} without ${cap}`);
        assert.ok(
          allowed(docker([...DEFAULT_CAPABILITIES, cap]), n).some(
            (r) => r.action === "SCMP_ACT_ALLOW" && !r.args,
          ),
          `${n} with ${cap}`,
        );
      }
    }
    // chroot is a default capability: --cap-drop SYS_CHROOT takes the syscall too.
    assert.ok(allowed(docker(DEFAULT_CAPABILITIES), "chroot").length > 0);
    assert.deepEqual(
      allowed(docker(DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_SYS_CHROOT")), "chroot"),
      [],
    );
  });

  it("argument filters: clone without namespace flags, clone3 ENOSYS, personality, socket", () => {
    const s = docker(DEFAULT_CAPABILITIES);
    assert.deepEqual(allowed(s, "clone"), [
      {
        names: ["clone"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
      },
    ]);
    assert.deepEqual(allowed(s, "clone3"), [{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }]);
    assert.deepEqual(
      allowed(s, "personality").map((r) => r.args?.[0]?.value),
      [0, 8, 0x20000, 0x20008, 0xffffffff],
      "not READ_IMPLIES_EXEC (0x400000)",
    );
    assert.deepEqual(
      allowed(s, "socket").map((r) => `${r.args?.[0]?.op} ${r.args?.[0]?.value}`),
      ["SCMP_CMP_LT 38", "SCMP_CMP_EQ 39", "SCMP_CMP_GT 40"],
      "AF_ALG and AF_VSOCK refused",
    );
    const admin = docker([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
    assert.deepEqual(
      allowed(admin, "clone").map((r) => r.args),
      [undefined],
      "with CAP_SYS_ADMIN clone is unfiltered",
    );
    assert.deepEqual(
      allowed(admin, "clone3").map((r) => r.action),
      ["SCMP_ACT_ALLOW"],
    );
    const s390 = docker(DEFAULT_CAPABILITIES, { arch: "s390x", kernel: "6.1" });
    assert.equal(allowed(s390, "clone")[0]?.args?.[0]?.index, 1, "s390 has clone's flags second");
  });

  it("minKernel: ptrace for everyone only from 4.8", () => {
    const old = docker(DEFAULT_CAPABILITIES, { arch: "amd64", kernel: "4.4.0-210-generic" });
    assert.deepEqual(allowed(old, "ptrace"), []);
    assert.ok(allowed(docker(DEFAULT_CAPABILITIES), "ptrace").length > 0);
    assert.ok(compareVersions("6.18.44-fc-v1300", "4.8") > 0);
    assert.equal(compareVersions("4.8", "4.8.0"), 0);
    assert.ok(compareVersions("4.10", "4.8") > 0);
  });

  it("a profile of one's own: `architectures` used as given, `name` as one name", () => {
    const p = parseSeccompProfile(
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [{ name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      }),
    );
    assert.deepEqual(seccompForSpec(p, { ...AMD64, capabilities: [] }), {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
    });
  });

  it("bad profiles: clear errors", () => {
    const bad: [string, RegExp][] = [
      ["{ nope", /^Decoding seccomp profile failed: /],
      ["[]", /not a JSON object/],
      ['{"defaultAction":"SCMP_ACT_MAYBE"}', /unknown defaultAction "SCMP_ACT_MAYBE"/],
      [
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["readd"],"action":"SCMP_ACT_ERRNO"}]}',
        /unknown syscall "readd"/,
      ],
      [
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOPE"}]}',
        /unknown action "SCMP_ACT_NOPE"/,
      ],
      [
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}',
        /names no syscall/,
      ],
      [
        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}',
        /bad argument condition/,
      ],
      [
        '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86","subArchitectures":null}]}',
        /both 'architectures' and 'archMap'/,
      ],
    ];
    for (const [text, message] of bad)
      assert.throws(
        () => parseSeccompProfile(text),
        (e: Error) => e instanceof RuntimeUsageError && message.test(e.message),
        text,
      );
    // Every name of the default profile is known (a typo there would silently allow nothing).
    assert.doesNotThrow(() => parseSeccompProfile(JSON.stringify(DEFAULT_SECCOMP_PROFILE)));
  });

  it("Node's architecture names as Docker's", () => {
    assert.equal(nativeArch("x64"), "amd64");
    assert.equal(nativeArch("arm64"), "arm64");
    assert.equal(nativeArch("ia32"), "x86");
  });
});

describe("--security-opt and --device syntax", () => {
  it("security options", () => {
    assert.deepEqual(parseSecurityOptions([]), { noNewPrivileges: false, seccomp: "default", labels: [] });
    assert.equal(parseSecurityOptions(["no-new-privileges"]).noNewPrivileges, true);
    assert.equal(parseSecurityOptions(["no-new-privileges=true"]).noNewPrivileges, true);
    assert.equal(parseSecurityOptions(["no-new-privileges:1"]).noNewPrivileges, true);
    assert.equal(parseSecurityOptions(["no-new-privileges=false"]).noNewPrivileges, false);
    assert.equal(parseSecurityOptions(["seccomp=unconfined"]).seccomp, "unconfined");
    assert.equal(parseSecurityOptions(["seccomp=builtin"]).seccomp, "default");
    assert.deepEqual(parseSecurityOptions(["label=disable", "label:type:x", "apparmor=unconfined"]), {
      noNewPrivileges: false,
      seccomp: "default",
      labels: ["disable", "type:x"],
      apparmor: "unconfined",
    });
    assert.throws(() => parseSecurityOptions(["nope"]), /invalid --security-opt 1: "nope"/);
    assert.throws(() => parseSecurityOptions(["nope=1"]), /invalid --security-opt 2: "nope=1"/);
    assert.throws(() => parseSecurityOptions(["no-new-privileges=yes"]), /invalid --security-opt 2/);
    assert.throws(() => parseSecurityOptions(["seccomp={bad"]), /Decoding seccomp profile failed/);
  });

  it("devices", () => {
    const d = (pathOnHost: string, pathInContainer: string, cgroupPermissions: string) => ({
      pathOnHost,
      pathInContainer,
      cgroupPermissions,
    });
    assert.deepEqual(parseDeviceFlag("/dev/fuse"), d("/dev/fuse", "/dev/fuse", "rwm"));
    assert.deepEqual(parseDeviceFlag("/dev/sda:/dev/xvda"), d("/dev/sda", "/dev/xvda", "rwm"));
    assert.deepEqual(parseDeviceFlag("/dev/sda:r"), d("/dev/sda", "/dev/sda", "r"));
    assert.deepEqual(parseDeviceFlag("/dev/sda:/dev/xvda:rw"), d("/dev/sda", "/dev/xvda", "rw"));
    assert.throws(() => parseDeviceFlag("/dev/sda:/dev/xvda:rwx"), /invalid device mode: rwx/);
    assert.throws(() => parseDeviceFlag("/dev/sda:/dev/xvda:rr"), /invalid device mode: rr/);
    assert.throws(() => parseDeviceFlag("sda"), /bad format for path: sda/);
    assert.throws(() => parseDeviceFlag("/dev/sda:xvda:r"), /bad format for path: xvda/);
    assert.throws(() => parseDeviceFlag("/a:/b:r:x"), /invalid device specification/);
  });
});

describe("isolation options", () => {
  const base = () =>
    newSpec(withCapabilities(DEFAULT_CAPABILITIES), withMounts(defaultMounts()), withDefaultDevices());
  const dev = {
    device: { path: "/dev/xvda", type: "b" as const, major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
    rule: { allow: true, type: "b", major: 8, minor: 0, access: "r" },
  };

  it("Docker's device rules, then --device's", () => {
    const s = newSpec(withDefaultDevices(), withDevices([dev]));
    assert.deepEqual(s.linux.resources.devices, [...DEFAULT_DEVICE_RULES, dev.rule]);
    assert.deepEqual(s.linux.devices, [dev.device]);
    assert.equal(s.linux.resources.devices[0]?.allow, false, "everything else denied first");
  });

  it("privileged: no masks, /sys and cgroups writable, every device", () => {
    const s = newSpec(
      withMounts(defaultMounts()),
      withMaskedPaths(["/proc/kcore"], ["/proc/sys"]),
      withDefaultDevices(),
      withDevices([dev]),
      withPrivileged([dev.device, { ...dev.device, path: "/dev/loop0", major: 7 }]),
    );
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.ok(!s.mounts.find((m) => m.destination === "/sys")!.options.includes("ro"));
    assert.ok(!s.mounts.find((m) => m.type === "cgroup")!.options.includes("ro"));
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: "rwm" }]);
    assert.deepEqual(
      s.linux.devices?.map((d) => d.path),
      ["/dev/xvda", "/dev/loop0"],
      "a device given twice is made once",
    );
  });

  it("no-new-privileges, seccomp from the bounding set, none when unconfined", () => {
    const s = derived(base(), withNoNewPrivileges(true), withSeccomp(DEFAULT_SECCOMP_PROFILE, AMD64));
    assert.equal(s.process.noNewPrivileges, true);
    assert.deepEqual(allowed(s.linux.seccomp!, "mount"), []);
    const admin = derived(
      newSpec(withCapabilities([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"])),
      withSeccomp(DEFAULT_SECCOMP_PROFILE, AMD64),
    );
    assert.ok(allowed(admin.linux.seccomp!, "mount").length > 0);
    assert.equal(derived(base(), withSeccomp(undefined, AMD64)).linux.seccomp, undefined);
  });

  it("a user namespace: its mappings; a network namespace made outside it gets the host's /sys read-only", () => {
    const map = {
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    };
    const joined = newSpec(
      withMounts(defaultMounts()),
      withNamespaces(["pid", "mount"]),
      withNetwork("default", "/run/netns/x"),
      withUserNamespace(map),
    );
    assert.deepEqual(
      joined.linux.namespaces.map((n) => n.type),
      ["pid", "network", "mount", "user"],
    );
    assert.deepEqual(joined.linux.uidMappings, map.uidMappings);
    assert.deepEqual(joined.linux.gidMappings, map.gidMappings);
    assert.deepEqual(
      joined.mounts.find((m) => m.destination === "/sys"),
      {
        destination: "/sys",
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      },
    );
    const own = newSpec(
      withMounts(defaultMounts()),
      withNamespaces(["pid"]),
      withNetwork("none"),
      withUserNamespace(map),
    );
    assert.equal(
      own.mounts.find((m) => m.destination === "/sys")?.type,
      "sysfs",
      "its own network: its own sysfs",
    );
    assert.equal(newSpec(withUserNamespace(undefined)).linux.uidMappings, undefined);
  });

  it("the sandbox's list: --privileged, --cap-drop ALL, seccomp=unconfined, no-new-privileges", () => {
    const settings: SandboxSettings = {
      hostname: "h",
      user: "",
      env: [],
      args: ["true"],
      workingDir: "/",
      tty: false,
      openStdin: false,
      stdinOnce: false,
      network: "none",
      ports: [],
      mounts: [],
      limits: {},
      readOnly: false,
      init: false,
    };
    const host: HostFacts = {
      rootfs: "/r",
      user: { uid: 0, gid: 0, additionalGids: [], home: "/root" } as HostFacts["user"],
      etc: {},
      cgroupsPath: "berth-x",
      seccomp: AMD64,
      capabilities: ["CAP_CHOWN", "CAP_SYS_ADMIN"],
      hostDevices: [dev.device],
    };
    const plain = sandboxSpec(settings, host);
    assert.deepEqual(plain.process.capabilities.bounding, DEFAULT_CAPABILITIES);
    assert.ok(plain.linux.seccomp, "the default profile");
    assert.deepEqual(plain.linux.resources.devices, DEFAULT_DEVICE_RULES);
    assert.ok(plain.linux.maskedPaths.includes("/proc/kcore"));
    const priv = sandboxSpec({ ...settings, privileged: true }, host);
    assert.deepEqual(priv.process.capabilities.bounding, ["CAP_CHOWN", "CAP_SYS_ADMIN"], "what the host has");
    assert.equal(priv.linux.seccomp, undefined);
    assert.deepEqual(priv.linux.maskedPaths, []);
    assert.deepEqual(priv.linux.devices, [dev.device]);
    const own = JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW" });
    assert.deepEqual(
      sandboxSpec({ ...settings, privileged: true, securityOpt: [`seccomp=${own}`] }, host).linux.seccomp,
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [] },
      "privileged with a profile of one's own keeps it (Docker's rule)",
    );
    const none = sandboxSpec({ ...settings, capDrop: ["ALL"] }, host);
    assert.deepEqual(none.process.capabilities, { bounding: [], effective: [], permitted: [] });
    assert.deepEqual(allowed(none.linux.seccomp!, "chroot"), []);
    assert.equal(
      sandboxSpec({ ...settings, securityOpt: ["seccomp=unconfined"] }, host).linux.seccomp,
      undefined,
    );
    assert.equal(
      sandboxSpec({ ...settings, securityOpt: ["no-new-privileges"] }, host).process.noNewPrivileges,
      true,
    );
  });
});

describe("user namespaces: subordinate IDs", () => {
  const r = (start: number, count: number) => ({ start, count });
  const block = (u: number, g = u, size = 65536) => ({
    uidMappings: [{ containerID: 0, hostID: u, size }],
    gidMappings: [{ containerID: 0, hostID: g, size }],
  });

  it("--userns=auto takes the first free block, and the same block again once it is free", () => {
    const ranges = [r(100000, 65536 * 3)];
    assert.deepEqual(allocateAuto(ranges, ranges, []), block(100000));
    assert.deepEqual(allocateAuto(ranges, ranges, [block(100000)]), block(165536));
    assert.deepEqual(allocateAuto(ranges, ranges, [block(165536)]), block(100000), "a hole is reused");
    assert.equal(allocateAuto(ranges, ranges, [block(100000), block(165536), block(231072)]), undefined);
    assert.deepEqual(
      allocateAuto([r(100000, 1000), r(500000, 65536)], [r(300000, 65536)], []),
      block(500000, 300000),
      "a range too small is skipped",
    );
  });

  it("mapping lookups", () => {
    const m = [
      { containerID: 0, hostID: 100000, size: 10 },
      { containerID: 10, hostID: 500000, size: 10 },
    ];
    assert.equal(hostId(m, 0), 100000);
    assert.equal(hostId(m, 12), 500002);
    assert.equal(hostId(m, 20), undefined);
  });

  it("usernsRemap without ranges is Docker's error", () => {
    process.env.BERTH_SUBUID_FILE = "/nonexistent/subuid";
    process.env.BERTH_SUBGID_FILE = "/nonexistent/subgid";
    try {
      assert.throws(
        () => remapIdMap("nobody"),
        /Can't create ID mappings: no subuid ranges found for user "nobody"/,
      );
    } finally {
      delete process.env.BERTH_SUBUID_FILE;
      delete process.env.BERTH_SUBGID_FILE;
    }
  });
});

function derived(spec: RuntimeSpec, ...opts: ((s: RuntimeSpec) => void)[]): RuntimeSpec {
  const s = structuredClone(spec);
  for (const o of opts) o(s);
  return s;
}
