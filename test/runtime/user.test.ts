import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readFileInRoot, resolveInRoot } from "../../src/runtime/rootfs.js";
import { parseGroup, parsePasswd, resolveUser } from "../../src/runtime/user.js";
import { tempDir } from "../helpers/processes.js";

const passwd = parsePasswd(
  [
    "root:x:0:0:root:/root:/bin/sh",
    "app:x:1000:1000:app:/home/app:/bin/sh",
    "broken line",
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
    "",
  ].join("\n"),
);
const groups = parseGroup(
  [
    "root:x:0:",
    "adm:x:4:root",
    "app:x:1000:",
    "wheel:x:10:app,other",
    "audio:x:29:app",
    "nogroup:x:65534:",
  ].join("\n"),
);

describe("resolveUser (moby/sys/user rules)", () => {
  const cases: {
    spec: string;
    want: { uid: number; gid: number; additionalGids: number[]; home: string } | RegExp;
  }[] = [
    // The groups are Docker's (daemon getUser): the gid, then the groups listing the user.
    { spec: "", want: { uid: 0, gid: 0, additionalGids: [0, 4], home: "/root" } },
    { spec: "0", want: { uid: 0, gid: 0, additionalGids: [0, 4], home: "/root" } },
    { spec: "0:0", want: { uid: 0, gid: 0, additionalGids: [0], home: "/root" } },
    { spec: "app", want: { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: "/home/app" } },
    { spec: "1000", want: { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: "/home/app" } },
    { spec: "app:wheel", want: { uid: 1000, gid: 10, additionalGids: [10], home: "/home/app" } },
    { spec: "app:4242", want: { uid: 1000, gid: 4242, additionalGids: [4242], home: "/home/app" } },
    { spec: "4242", want: { uid: 4242, gid: 0, additionalGids: [0], home: "/" } },
    { spec: "4242:4243", want: { uid: 4242, gid: 4243, additionalGids: [4243], home: "/" } },
    { spec: "nobody", want: { uid: 65534, gid: 65534, additionalGids: [65534], home: "/nonexistent" } },
    { spec: "ghost", want: /unable to find user ghost: no matching entries in passwd file/ },
    { spec: "app:ghosts", want: /unable to find group ghosts: no matching entries in group file/ },
    { spec: "a:b:c", want: /invalid user/ },
    { spec: "99999999999", want: /out of range/ },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.spec), () => {
      if (c.want instanceof RegExp) assert.throws(() => resolveUser(c.spec, passwd, groups), c.want);
      else assert.deepEqual(resolveUser(c.spec, passwd, groups), c.want);
    });
  }
});

describe("resolveInRoot keeps symlinks inside the container's root", () => {
  it("absolute and climbing links resolve under the root; missing leaves are allowed", async () => {
    const root = await tempDir("berth-rootfs-");
    await mkdir(join(root, "etc"), { recursive: true });
    await mkdir(join(root, "real"), { recursive: true });
    await writeFile(join(root, "real/passwd"), "mine\n");
    await symlink("/../../../../real/passwd", join(root, "etc/passwd"));
    await symlink("../../../../../etc", join(root, "etc2"));
    await symlink("loop2", join(root, "loop1"));
    await symlink("loop1", join(root, "loop2"));
    assert.equal(resolveInRoot(root, "/etc/passwd"), join(root, "real/passwd"));
    assert.equal(await readFileInRoot(root, "/etc/passwd"), "mine\n");
    assert.equal(resolveInRoot(root, "/etc2/passwd"), join(root, "real/passwd"));
    assert.equal(resolveInRoot(root, "/../../x/y"), join(root, "x/y"));
    assert.equal(await readFileInRoot(root, "/etc/group"), undefined);
    assert.throws(() => resolveInRoot(root, "/loop1/x"), /too many levels of symbolic links/);
  });
});
