import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from "../../src/runtime/defaults.js";
import { RuntimeUsageError } from "../../src/runtime/errors.js";
import { type HostFacts, sandboxSpec } from "../../src/runtime/sandbox-spec.js";
import type { SandboxSettings } from "../../src/runtime/settings.js";

/** A container's settings as `create` records them, and what the lifecycle found on the host. */
function settings(over: Partial<SandboxSettings> = {}): SandboxSettings {
  return {
    hostname: "0123456789ab",
    user: "",
    env: ["PATH=/bin", "HOSTNAME=0123456789ab"],
    args: ["sh"],
    workingDir: "",
    tty: false,
    openStdin: false,
    stdinOnce: false,
    network: "none",
    ports: [],
    mounts: [],
    limits: {},
    readOnly: false,
    init: false,
    ...over,
  };
}

function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    rootfs: "/x/merged",
    user: { uid: 0, gid: 0, additionalGids: [], home: "/root" },
    etc: { hosts: "/b/hosts", hostname: "/b/hostname", resolvConf: "/b/resolv.conf" },
    cgroupsPath: "berth-0123",
    ...over,
  };
}

describe("sandboxSpec: a container's spec, composed of the options in Docker's order", () => {
  it("Docker's defaults: 14 capabilities, masked and read-only paths, namespaces, hostname, cgroup", () => {
    const s = sandboxSpec(settings(), host());
    assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
    assert.deepEqual(s.process.capabilities.effective, DEFAULT_CAPABILITIES);
    assert.ok(!s.process.capabilities.bounding.includes("CAP_SYS_ADMIN"));
    assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
    assert.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
    assert.deepEqual(
      s.linux.namespaces.map((n) => n.type),
      ["pid", "network", "ipc", "uts", "mount", "cgroup"],
    );
    assert.equal(s.hostname, "0123456789ab");
    assert.deepEqual(s.root, { path: "/x/merged", readonly: false });
    assert.equal(s.linux.cgroupsPath, "berth-0123");
    assert.equal(s.process.terminal, false);
    assert.equal(s.process.cwd, "/", "an image without WORKDIR runs in /");
    assert.deepEqual(s.process.args, ["sh"]);
    assert.deepEqual(s.process.env, ["PATH=/bin", "HOSTNAME=0123456789ab"]);
    assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: "rwm" }]);
    for (const d of ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"])
      assert.ok(
        s.mounts.some((m) => m.destination === d),
        d,
      );
  });

  it("the default network joins the namespace slirp4netns serves, by its path (no patching afterwards)", () => {
    const s = sandboxSpec(settings({ network: "default" }), host({ netnsPath: "/run/netns/berth-0123" }));
    assert.deepEqual(
      s.linux.namespaces.find((n) => n.type === "network"),
      { type: "network", path: "/run/netns/berth-0123" },
    );
  });

  it("--network host shares the host's network namespace and its /sys", () => {
    const s = sandboxSpec(settings({ network: "host" }), host());
    assert.ok(!s.linux.namespaces.some((n) => n.type === "network"));
    const sys = s.mounts.find((m) => m.destination === "/sys")!;
    assert.equal(sys.type, "bind");
    assert.ok(sys.options.includes("ro"));
  });

  it("limits: --memory, --cpus, --pids-limit; bad values are usage errors", () => {
    const s = sandboxSpec(
      settings({ limits: { memory: 64 * 1024 * 1024, cpus: 1.5, pidsLimit: 50 } }),
      host(),
    );
    assert.deepEqual(s.linux.resources.memory, { limit: 67108864 });
    assert.deepEqual(s.linux.resources.cpu, { quota: 150000, period: 100000 });
    assert.deepEqual(s.linux.resources.pids, { limit: 50 });
    assert.equal(sandboxSpec(settings(), host()).linux.resources.memory, undefined);
    assert.throws(
      () => sandboxSpec(settings({ limits: { memory: 1024 } }), host()),
      /Minimum memory limit allowed is 6MB/,
    );
    assert.throws(() => sandboxSpec(settings({ limits: { cpus: 0 } }), host()), RuntimeUsageError);
  });

  it("user, groups, working directory, read-only root, tty", () => {
    const s = sandboxSpec(
      settings({ workingDir: "/srv", readOnly: true, tty: true }),
      host({ user: { uid: 1000, gid: 1000, additionalGids: [10], home: "/h" } }),
    );
    assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [10] });
    assert.equal(s.process.cwd, "/srv");
    assert.equal(s.root.readonly, true);
    assert.equal(s.process.terminal, true);
    assert.throws(() => sandboxSpec(settings({ workingDir: "srv" }), host()), /needs to be an absolute path/);
  });

  it("bind mounts after the /etc files, parents before children; --init runs tini as pid 1", () => {
    const s = sandboxSpec(
      settings({
        init: true,
        mounts: [
          { type: "bind", source: "/h/inner", destination: "/data/inner", readOnly: true },
          { type: "volume", name: "v", source: "/vol/v/_data", destination: "/data", readOnly: false },
        ],
      }),
      host({ initBinary: "/opt/tini" }),
    );
    const dests = s.mounts.map((m) => m.destination);
    assert.ok(dests.indexOf("/data") < dests.indexOf("/data/inner"));
    assert.ok(dests.indexOf("/dev") < dests.indexOf("/dev/pts"));
    assert.equal(s.mounts.find((m) => m.destination === "/etc/hosts")!.source, "/b/hosts");
    assert.equal(s.mounts.find((m) => m.destination === "/data")!.source, "/vol/v/_data");
    assert.ok(s.mounts.find((m) => m.destination === "/data/inner")!.options.includes("ro"));
    assert.ok(!s.mounts.find((m) => m.destination === "/data")!.options.includes("ro"));
    assert.deepEqual(s.process.args, ["/sbin/docker-init", "--", "sh"]);
    assert.equal(s.mounts.find((m) => m.destination === "/sbin/docker-init")!.source, "/opt/tini");
    assert.equal(
      sandboxSpec(settings({ init: true }), host()).mounts.find((m) => m.destination === "/sbin/docker-init")!
        .source,
      "/usr/bin/tini-static",
      "Debian's tini by default",
    );
    assert.throws(
      () =>
        sandboxSpec(
          settings({ mounts: [{ type: "bind", source: "/a", destination: "rel", readOnly: false }] }),
          host(),
        ),
      /mount path must be absolute/,
    );
  });
});
