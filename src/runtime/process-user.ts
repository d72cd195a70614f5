import { readFileInRoot } from "./rootfs.js";
import { parseGroup, parsePasswd, type ResolvedUser, resolveUser } from "./user.js";

/**
 * Resolves a user spec against the container's own /etc/passwd and /etc/group (read inside its
 * root). No user is root, whose groups in /etc/group count too, as Docker's.
 */
export async function resolveUserInRoot(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const [passwdText, groupText] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd"),
    readFileInRoot(rootfs, "/etc/group"),
  ]);
  const passwd = parsePasswd(passwdText ?? "");
  const user = resolveUser(spec ?? "", passwd, parseGroup(groupText ?? ""));
  // Without a passwd entry for root, runc's default home.
  if (!spec && !passwd.some((p) => p.uid === 0)) user.home = "/root";
  return user;
}
