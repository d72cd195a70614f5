import assert from "node:assert/strict";
import { chmod, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, tempDir } from "../helpers/processes.js";
import { berth, storeWithFixtures } from "./helpers.js";

/*
 * User namespaces, checked from both sides: root in the container is an unprivileged user of
 * the host (its process, the files it makes in a bind mount), the image's files are its own
 * (owner-shifted copies of the layers, made once per mapping and shared), --userns=auto gives
 * each container IDs of its own, the store-wide usernsRemap maps every container onto one
 * user's IDs, and the isolation still holds inside. The subordinate IDs come from files of the
 * test's own (BERTH_SUBUID_FILE / BERTH_SUBGID_FILE), never the host's /etc/subuid.
 */

const SIZE = 65536;

describe("user namespaces", () => {
  let root: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  // A base of our own, so that two runs of this file at once do not share host IDs.
  const base = 300_000 + Math.floor(Math.random() * 2000) * SIZE * 4;

  before(async () => {
    root = await storeWithFixtures();
    dir = await tempDir("berth-userns-");
    await chmod(dir, 0o755);
    await writeFile(
      join(dir, "subuid"),
      `# test ranges\ncontainers:${base}:${SIZE * 3}\nremap:${base + SIZE * 3}:${SIZE}\n`,
    );
    env = { BERTH_SUBUID_FILE: join(dir, "subuid"), BERTH_SUBGID_FILE: join(dir, "subuid") };
  });
  after(async () => {
    const ids = (await berth(root, ["ps", "-aq"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await berth(root, ["rm", "-f", ...ids], { env });
  });

  const ok = async (args: string[]) => {
    const r = await berth(root, args, { env });
    assert.equal(r.code, 0, `berth ${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  const shifted = async () => {
    const out: string[] = [];
    for (const layer of await readdir(join(root, "layers")))
      for (const d of await readdir(join(root, "layers", layer)))
        if (d.startsWith("idmap-")) out.push(`${layer}/${d}`);
    return out.sort();
  };

  test("--userns=auto: root inside, an unprivileged user outside; its files in a bind mount are the mapped user's", async () => {
    const bind = join(dir, "bind");
    await (await import("node:fs/promises")).mkdir(bind, { mode: 0o777 });
    await chmod(bind, 0o777);
    const r = await ok([
      "run",
      "--rm",
      "--userns",
      "auto",
      "-v",
      `${bind}:/b`,
      "busybox:1",
      "sh",
      "-c",
      "id -u; id -g; cat /proc/self/uid_map; touch /b/made; ls -ln /bin/busybox; echo x > /tmp/y && echo wrote",
    ]);
    const [uid, gid, map, ...rest] = r.stdout.trim().split("\n");
    assert.equal(uid, "0");
    assert.equal(gid, "0");
    assert.deepEqual(map!.trim().split(/\s+/).map(Number), [0, base, SIZE]);
    assert.match(rest[0]!, /^-rwxr-xr-x\s+\d+\s+0\s+0\s/, "the image's files are root's inside");
    assert.equal(rest[1], "wrote", "root inside writes its own layer");
    const made = await stat(join(bind, "made"));
    assert.equal(made.uid, base, "the file is the mapped user's on the host");
    assert.equal(made.gid, base);

    await ok(["run", "-d", "--name", "mapped", "--userns", "auto", "busybox:1", "sleep", "1000"]);
    const pid = (await ok(["inspect", "-f", "{{.State.Pid}}", "mapped"])).stdout.trim();
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    assert.match(
      status,
      new RegExp(`^Uid:\\s+${base}\\s+${base}\\s+${base}\\s+${base}$`, "m"),
      "the process is not root on the host",
    );
    const ex = await ok(["exec", "mapped", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    assert.match(ex.stdout, new RegExp(`^0\\n\\s*0\\s+${base}\\s+${SIZE}`), "exec joins the user namespace");
    assert.equal((await ok(["inspect", "-f", "{{.HostConfig.UsernsMode}}", "mapped"])).stdout.trim(), "auto");
    await writeFile(join(dir, "copied.txt"), "in\n");
    await ok(["cp", join(dir, "copied.txt"), "mapped:/copied.txt"]);
    assert.match(
      (await ok(["exec", "mapped", "ls", "-ln", "/copied.txt"])).stdout,
      /^-\S+\s+\d+\s+0\s+0\s/,
      "cp: what is copied in is the container's root's",
    );
  });

  test("each running container gets IDs of its own; the owner-shifted layers are made once per mapping and reused", async () => {
    const before = await shifted();
    assert.equal(before.length, 1, "one mapping so far (the first test's)");
    // "mapped" (the first test's) still holds the first block: the next one takes the second.
    await ok(["run", "-d", "--name", "second", "--userns", "auto", "busybox:1", "sleep", "1000"]);
    const second = (await ok(["exec", "second", "cat", "/proc/self/uid_map"])).stdout
      .trim()
      .split(/\s+/)
      .map(Number);
    assert.deepEqual(second, [0, base + SIZE, SIZE]);
    assert.equal((await shifted()).length, 2, "a second mapping, a second copy");
    // Containers see each other's files as nobody's: their IDs do not overlap.
    await ok(["rm", "-f", "second"]);
    await ok(["run", "--rm", "--userns", "auto", "busybox:1", "true"]);
    await ok(["run", "--rm", "--userns", "auto", "busybox:1", "true"]);
    assert.equal((await shifted()).length, 2, "later runs reuse the copies of their mapping");
    // The copy is owned by the mapping, not by root.
    const [first] = before;
    const copy = await stat(join(root, "layers", first!, "diff", "bin", "busybox"));
    assert.equal(copy.uid, base);
  });

  test("commit and export of a container in a user namespace record the owners it sees, not the host's", async () => {
    await ok([
      "run",
      "--name",
      "to-commit",
      "--userns",
      "auto",
      "busybox:1",
      "sh",
      "-c",
      "touch /made-by-root; touch /tmp/made-by-someone; chown 1234:1234 /tmp/made-by-someone",
    ]);
    await ok(["commit", "to-commit", "userns-commit:1"]);
    const r = await ok([
      "run",
      "--rm",
      "userns-commit:1",
      "ls",
      "-ln",
      "/made-by-root",
      "/tmp/made-by-someone",
    ]);
    assert.match(r.stdout, /^-\S+\s+\d+\s+0\s+0\s.*\/made-by-root$/m);
    assert.match(r.stdout, /^-\S+\s+\d+\s+1234\s+1234\s.*\/tmp\/made-by-someone$/m);
    const file = join(dir, "export.tar");
    await ok(["export", "-o", file, "to-commit"]);
    const listing = await run("tar", ["-tvf", file, "made-by-root"]);
    assert.match(listing.stdout, /^-\S+ 0\/0 /, "export: root's file is 0/0");
    await ok(["rm", "to-commit"]);
    await ok(["rmi", "userns-commit:1"]);
  });

  test("the walls still stand inside a user namespace: capabilities, seccomp, the cgroup escape", async () => {
    const r = await ok([
      "run",
      "--rm",
      "--userns",
      "auto",
      "busybox:1",
      "sh",
      "-c",
      [
        "grep -E '^(CapEff|Seccomp):' /proc/self/status",
        "mkdir -p /tmp/cg; mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null; echo cgmount=$?",
        "echo 1 > /sys/fs/cgroup/memory/notify_on_release 2>/dev/null; echo cgw=$?",
        "echo x > /proc/sys/kernel/hostname 2>/dev/null; echo sysw=$?",
        "cat /proc/kcore 2>/dev/null | wc -c",
      ].join("; "),
    ]);
    assert.deepEqual(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim()),
      ["CapEff:\t00000000a80425fb", "Seccomp:\t2", "cgmount=1", "cgw=1", "sysw=1", "0"],
    );
  });

  test("usernsRemap in the store's config: every container in that user's IDs, --userns=host opts out", async () => {
    await writeFile(join(root, "config.yaml"), "usernsRemap: remap\n");
    try {
      const r = await ok(["run", "--rm", "busybox:1", "cat", "/proc/self/uid_map"]);
      assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, base + SIZE * 3, SIZE]);
      const host = await ok(["run", "--rm", "--userns", "host", "busybox:1", "cat", "/proc/self/uid_map"]);
      assert.deepEqual(host.stdout.trim().split(/\s+/).map(Number), [0, 0, 4294967295]);
      const priv = await berth(root, ["run", "--rm", "--privileged", "busybox:1", "true"], { env });
      assert.equal(priv.code, 125);
      assert.match(
        priv.stderr,
        /privileged mode is incompatible with user namespaces\. {2}You must run the container in the host namespace when running privileged mode/,
      );
      await writeFile(join(root, "config.yaml"), "usernsRemap: nosuchuser\n");
      const none = await berth(root, ["run", "--rm", "busybox:1", "true"], { env });
      assert.equal(none.code, 125);
      assert.match(none.stderr, /Can't create ID mappings: no subuid ranges found for user "nosuchuser"/);
    } finally {
      await rm(join(root, "config.yaml"), { force: true });
    }
  });

  test("--userns=auto without subordinate IDs, or with all of them taken: exit 125, nothing created", async () => {
    const before = (await berth(root, ["ps", "-aq"])).stdout;
    const missing = await berth(root, ["run", "--rm", "--userns", "auto", "busybox:1", "true"], {
      env: { BERTH_SUBUID_FILE: join(dir, "none"), BERTH_SUBGID_FILE: join(dir, "none") },
    });
    assert.equal(missing.code, 125);
    assert.match(
      missing.stderr,
      /cannot use --userns=auto: no subuid ranges found for user "containers" in .*none/,
    );
    // Take the blocks left (the first test's container holds one), until none is.
    const held: string[] = [];
    let full: Awaited<ReturnType<typeof berth>> | undefined;
    for (let i = 0; i < 3 && !full; i++) {
      const r = await berth(root, ["create", "--name", `hold-${i}`, "--userns", "auto", "busybox:1"], {
        env,
      });
      if (r.code === 0) held.push(`hold-${i}`);
      else full = r;
    }
    assert.ok(full, "the ranges run out");
    assert.equal(full.code, 125, full.stderr);
    assert.match(full.stderr, /every range of "containers" in .* is in use by other containers/);
    if (held.length) await ok(["rm", ...held]);
    assert.equal((await berth(root, ["ps", "-aq"])).stdout, before);
  });
});
