import { readFileInRoot } from "./rootfs.js";
import { parseGroup, parsePasswd, type ResolvedUser, resolveUser } from "./user.js";

/** Resolves a user spec against the container's own /etc/passwd and /etc/group (read inside its root). */
export async function resolveUserInRoot(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  if (!spec) {
    const passwd = parsePasswd((await readFileInRoot(rootfs, "/etc/passwd")) ?? "");
    return { uid: 0, gid: 0, additionalGids: [], home: passwd.find((p) => p.uid === 0)?.home ?? "/root" };
  }
  const [passwdText, groupText] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd"),
    readFileInRoot(rootfs, "/etc/group"),
  ]);
  return resolveUser(spec, parsePasswd(passwdText ?? ""), parseGroup(groupText ?? ""));
}
