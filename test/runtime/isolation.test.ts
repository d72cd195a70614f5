import assert from "node:assert/strict";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_CAPABILITIES } from "../../src/runtime/defaults.js";
import { repoRoot } from "../helpers/fixtures.js";
import { run, tempDir } from "../helpers/processes.js";
import { berth, berthOk, inspect, storeWithFixtures } from "./helpers.js";

/*
 * Each isolation property checked from inside a real container: the capabilities the kernel
 * says the process has, syscalls called by a static probe (test/helpers/syscall-probe.c, built
 * with gcc -static here), masked and read-only kernel paths, devices, and the cgroup v1
 * release_agent escape, with the default profile and every flag that changes them.
 */

function status(text: string, key: string): string {
  const m = new RegExp(`^${key}:\\s*(\\S+)`, "m").exec(text);
  assert.ok(m, `${key} in /proc/self/status`);
  return m[1]!;
}

function probes(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => l.split("=") as [string, string]),
  );
}

describe("isolation, seen from inside a container", () => {
  let root: string;
  let bin: string;
  let blockDevice: string | undefined;

  before(async () => {
    root = await storeWithFixtures();
    bin = await tempDir("berth-probe-");
    await chmod(bin, 0o755);
    const cc = await run("gcc", [
      "-static",
      "-O1",
      "-o",
      join(bin, "probe"),
      join(repoRoot(), "test/helpers/syscall-probe.c"),
    ]);
    assert.equal(cc.code, 0, `gcc -static (Debian's build-essential): ${cc.stderr}`);
    // An unattached loop device: opening it reads nothing of anyone's.
    blockDevice = (await readdir("/dev"))
      .filter((d) => /^loop\d+$/.test(d))
      .sort()
      .at(-1);
    if (blockDevice) blockDevice = `/dev/${blockDevice}`;
  });
  after(async () => {
    const ids = (await berth(root, ["ps", "-aq"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(root, ["rm", "-f", ...ids]);
  });

  const probe = async (flags: string[], names: string[] = []) => {
    const r = await berth(root, [
      "run",
      "--rm",
      "--network",
      "none",
      "-v",
      `${bin}:/probe:ro`,
      ...flags,
      "busybox:1",
      "/probe/probe",
      "--in-container",
      ...names,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return probes(r.stdout);
  };
  const sh = async (flags: string[], script: string) =>
    berth(root, ["run", "--rm", "--network", "none", ...flags, "busybox:1", "sh", "-c", script]);

  test("the default: Docker's 14 capabilities, the seccomp filter, refused syscalls refused and allowed ones working", async () => {
    const s = (await sh([], "cat /proc/self/status")).stdout;
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.equal(status(s, "CapEff"), "00000000a80425fb");
    assert.equal(status(s, "CapBnd"), status(s, "CapEff"), "the bounding set is the same 14");
    assert.equal(status(s, "Seccomp"), "2", "a seccomp filter is on");
    assert.equal(status(s, "NoNewPrivs"), "0");
    const p = await probe([]);
    for (const refused of [
      "unshare_user",
      "unshare_mount",
      "mount",
      "keyctl",
      "add_key",
      "bpf",
      "kexec_load",
      "open_by_handle_at",
      "reboot",
      "personality_read_implies_exec",
      "socket_vsock",
      "ptrace_other_user",
      "sethostname",
    ])
      assert.equal(p[refused], "EPERM", refused);
    assert.equal(p.clone3, "ENOSYS", "clone3 is ENOSYS, so that libc falls back to clone");
    for (const allowed of ["personality_query", "socket_inet", "fork", "chroot"])
      assert.equal(p[allowed], "ok", allowed);
  });

  test("--privileged: every capability, no filter; --cap-drop ALL: none; --cap-add: the syscalls it gates", async () => {
    const host = await readFile("/proc/self/status", "utf8");
    const priv = (await sh(["--privileged"], "cat /proc/self/status")).stdout;
    assert.equal(status(priv, "CapEff"), status(host, "CapBnd"), "all that the host allows");
    assert.equal(status(priv, "Seccomp"), "0");
    const pp = await probe(
      ["--privileged"],
      [
        "keyctl",
        "add_key",
        "personality_read_implies_exec",
        "ptrace_other_user",
        "socket_vsock",
        "clone3",
        "reboot",
      ],
    );
    for (const k of ["keyctl", "add_key", "personality_read_implies_exec", "ptrace_other_user"])
      assert.equal(pp[k], "ok", k);
    assert.equal(pp.clone3, "EINVAL", "clone3 reaches the kernel");
    assert.equal(pp.reboot, "EINVAL", "reboot reaches the kernel (and is told its magic is wrong)");

    const none = (await sh(["--cap-drop", "ALL"], "cat /proc/self/status")).stdout;
    assert.equal(status(none, "CapEff"), "0000000000000000");
    assert.equal(status(none, "CapBnd"), "0000000000000000");
    const pn = await probe(["--cap-drop", "ALL"], ["chroot", "fork", "keyctl"]);
    assert.deepEqual(pn, { chroot: "EPERM", fork: "ok", keyctl: "EPERM" });

    const some = (
      await sh(["--cap-drop", "ALL", "--cap-add", "chown", "--cap-add", "CAP_KILL"], "cat /proc/self/status")
    ).stdout;
    assert.equal(status(some, "CapEff"), "0000000000000021", "CAP_CHOWN (0) and CAP_KILL (5)");
    const ptrace = await probe(
      ["--cap-add", "SYS_PTRACE", "--cap-add", "DAC_READ_SEARCH"],
      ["ptrace_other_user", "open_by_handle_at", "keyctl"],
    );
    assert.equal(ptrace.ptrace_other_user, "ok", "ptrace allowed with CAP_SYS_PTRACE");
    assert.equal(
      ptrace.open_by_handle_at,
      "ESTALE",
      "open_by_handle_at reaches the kernel with CAP_DAC_READ_SEARCH",
    );
    assert.equal(ptrace.keyctl, "EPERM");
    const admin = await probe(["--cap-add", "SYS_ADMIN"], ["unshare_mount", "clone3", "sethostname"]);
    assert.deepEqual(admin, { unshare_mount: "ok", clone3: "EINVAL", sethostname: "ok" });
  });

  test("--security-opt seccomp=unconfined, a profile of one's own, no-new-privileges", async () => {
    const u = await probe(
      ["--security-opt", "seccomp=unconfined"],
      ["keyctl", "add_key", "personality_read_implies_exec", "unshare_user", "mount"],
    );
    assert.deepEqual(
      u,
      {
        keyctl: "ok",
        add_key: "ok",
        personality_read_implies_exec: "ok",
        unshare_user: "ok",
        mount: "EPERM",
      },
      "the kernel's own checks still apply: mount needs CAP_SYS_ADMIN",
    );
    const dir = await tempDir("berth-seccomp-");
    const profile = join(dir, "deny-mkdir.json");
    await writeFile(
      profile,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      }),
    );
    const own = await sh(
      ["--security-opt", `seccomp=${profile}`],
      "mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/y && echo touched",
    );
    assert.match(
      own.stdout,
      /Permission denied\nrc=1\n/,
      "mkdir is refused with the profile's errno (EACCES)",
    );
    assert.match(own.stdout, /touched/, "what the profile allows runs");
    const nnp = (await sh(["--security-opt", "no-new-privileges"], "cat /proc/self/status")).stdout;
    assert.equal(status(nnp, "NoNewPrivs"), "1");
    const nnpFalse = (await sh(["--security-opt", "no-new-privileges=false"], "cat /proc/self/status"))
      .stdout;
    assert.equal(status(nnpFalse, "NoNewPrivs"), "0");
    for (const opt of ["label=disable", "label:disable", "apparmor=unconfined"])
      assert.equal((await sh(["--security-opt", opt], "true")).code, 0, `${opt} is accepted`);
  });

  test("masked and read-only kernel paths, /sys and the cgroup filesystem read-only, the release_agent escape refused", async () => {
    const script = [
      "cat /proc/kcore 2>/dev/null | wc -c",
      "cat /proc/keys | wc -c",
      "cat /proc/timer_list | wc -c",
      "ls /sys/firmware | wc -l",
      "echo x > /proc/sys/kernel/hostname 2>/dev/null; echo sysw=$?",
      "touch /sys/kernel/x 2>/dev/null; echo sys=$?",
      "echo 1 > /sys/fs/cgroup/memory/notify_on_release 2>/dev/null; echo cgw=$?",
      "ls /sys/fs/cgroup/*/release_agent 2>/dev/null | wc -l",
      "mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null; echo cgmount=$?",
      "echo h > /proc/sysrq-trigger 2>/dev/null; echo sysrq=$?",
    ].join("; ");
    const d = await sh([], script);
    assert.equal(d.code, 0, d.stderr);
    const [kcore, keys, timers, firmware, ...rest] = d.stdout.trim().split("\n");
    assert.deepEqual(
      [kcore, keys, timers, firmware].map((x) => Number(x!.trim())),
      [0, 0, 0, 0],
      "masked paths read empty",
    );
    assert.deepEqual(rest, ["sysw=1", "sys=1", "cgw=1", "0", "cgmount=1", "sysrq=1"]);
    // Privileged: no masks, /proc/sys written (the container's own hostname: UTS is namespaced).
    const p = await sh(
      ["--privileged"],
      "wc -c < /proc/timer_list; echo box > /proc/sys/kernel/hostname; echo sysw=$?; hostname",
    );
    const [ptimers, ...prest] = p.stdout.trim().split("\n");
    assert.ok(Number(ptimers!.trim()) > 0, "/proc/timer_list is readable when privileged");
    assert.deepEqual(prest, ["sysw=0", "box"]);
  });

  test("devices: Docker's default nodes; --device adds one with its permissions; a block device's cgroup rule", async (t) => {
    const list = (await sh([], "ls /dev | sort | tr '\\n' ' '")).stdout.trim().split(" ");
    for (const d of ["null", "zero", "full", "random", "urandom", "tty"]) assert.ok(list.includes(d), d);
    assert.ok(!list.some((d) => /^(vd|sd|loop|kmsg|mem)/.test(d)), `no host devices: ${list.join(" ")}`);
    if (!blockDevice) return t.skip("this host has no loop device to open");
    const st = (await run("stat", ["-c", "%t %T", blockDevice])).stdout.trim().split(" ");
    const [major, minor] = st.map((h) => Number.parseInt(h, 16));
    // Made by hand (CAP_MKNOD is a default), the node is still refused by the device cgroup.
    const made = await sh(
      [],
      `mknod /tmp/blk b ${major} ${minor} && (head -c 1 /tmp/blk >/dev/null 2>&1; echo open=$?)`,
    );
    assert.match(made.stdout, /open=1/, "the device cgroup refuses a block device not given");
    const given = await sh(
      ["--device", `${blockDevice}:/dev/xblk:r`],
      "test -b /dev/xblk && echo isblk; : < /dev/xblk && echo read=ok; (: <> /dev/xblk) 2>/dev/null; echo rw=$?",
    );
    assert.equal(given.code, 0, given.stderr);
    assert.deepEqual(
      given.stdout.trim().split("\n"),
      ["isblk", "read=ok", "rw=1"],
      "read allowed, write refused",
    );
    const priv = await sh(["--privileged"], `test -b ${blockDevice} && (: < ${blockDevice}) && echo open=ok`);
    assert.match(priv.stdout, /open=ok/, "privileged containers get the host's devices");
  });

  test("inspect: CapAdd, CapDrop, Privileged, SecurityOpt, Devices, MaskedPaths, ReadonlyPaths, UsernsMode", async () => {
    await berthOk(root, [
      "create",
      "--name",
      "sec-inspect",
      "--cap-add",
      "net_admin",
      "--cap-drop",
      "MKNOD",
      "--security-opt",
      "no-new-privileges",
      "--device",
      "/dev/null:/dev/mynull:rw",
      "busybox:1",
    ]);
    const h = (await inspect(root, "sec-inspect")).HostConfig;
    assert.deepEqual(h.CapAdd, ["CAP_NET_ADMIN"]);
    assert.deepEqual(h.CapDrop, ["CAP_MKNOD"]);
    assert.equal(h.Privileged, false);
    assert.deepEqual(h.SecurityOpt, ["no-new-privileges"]);
    assert.deepEqual(h.Devices, [
      { PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rw" },
    ]);
    assert.ok(h.MaskedPaths.includes("/proc/kcore"));
    assert.ok(h.ReadonlyPaths.includes("/proc/sys"));
    assert.equal(h.UsernsMode, "");
    await berthOk(root, ["create", "--name", "sec-priv", "--privileged", "busybox:1"]);
    const p = (await inspect(root, "sec-priv")).HostConfig;
    assert.equal(p.Privileged, true);
    assert.equal(p.CapAdd, null);
    assert.equal(p.SecurityOpt, null);
    assert.equal(p.MaskedPaths, null, "privileged: nothing masked");
    await berthOk(root, ["rm", "sec-inspect", "sec-priv"]);
  });

  test("bad input: Docker's messages, exit 125, nothing created", async () => {
    const before = (await berthOk(root, ["ps", "-aq"])).stdout;
    const dir = await tempDir("berth-badprofile-");
    await writeFile(join(dir, "broken.json"), "{ not json");
    await writeFile(
      join(dir, "unknown.json"),
      JSON.stringify({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["read", "no_such_call"], action: "SCMP_ACT_ALLOW" }],
      }),
    );
    await writeFile(join(dir, "action.json"), JSON.stringify({ defaultAction: "SCMP_ACT_MAYBE" }));
    const cases: [string[], RegExp][] = [
      [["--cap-add", "CAP_FOO"], /Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"/],
      [["--cap-drop", "bogus"], /invalid CapDrop: unknown capability: "CAP_BOGUS"/],
      [
        ["--device", "/dev/no-such-device"],
        /error gathering device information while adding custom device "\/dev\/no-such-device": no such file or directory/,
      ],
      [["--device", "/dev/null:/dev/x:rwz"], /invalid device mode: rwz/],
      [["--device", "relative"], /bad format for path: relative/],
      [["--security-opt", "nonsense"], /Invalid --security-opt: "nonsense"/],
      [["--security-opt", "nonsense=1"], /invalid --security-opt 2: "nonsense=1"/],
      [["--security-opt", "no-new-privileges=maybe"], /invalid --security-opt 2: "no-new-privileges=maybe"/],
      [
        ["--security-opt", `seccomp=${join(dir, "missing.json")}`],
        /opening seccomp profile \(.*missing\.json\) failed: open .*: no such file or directory/,
      ],
      [
        ["--security-opt", `seccomp=${join(dir, "broken.json")}`],
        /compacting json for seccomp profile \(.*broken\.json\) failed/,
      ],
      [
        ["--security-opt", `seccomp=${join(dir, "unknown.json")}`],
        /Decoding seccomp profile failed: syscalls\[0\]: unknown syscall "no_such_call"/,
      ],
      [
        ["--security-opt", `seccomp=${join(dir, "action.json")}`],
        /Decoding seccomp profile failed: unknown defaultAction "SCMP_ACT_MAYBE"/,
      ],
      [["--userns", "private"], /--userns: invalid USER mode/],
      [["--cpus", "999"], /range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
    ];
    for (const [flags, message] of cases) {
      for (const cmd of ["run", "create"]) {
        const r = await berth(root, [cmd, ...flags, "busybox:1", "true"]);
        assert.equal(r.code, 125, `${cmd} ${flags.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    }
    assert.equal((await berthOk(root, ["ps", "-aq"])).stdout, before, "nothing was created");
  });
});
