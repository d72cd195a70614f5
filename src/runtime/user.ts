import { RuntimeUsageError } from "./errors.js";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The process's groups (setgroups): the gid first, then the user's groups from /etc/group, as Docker sets them. */
  additionalGids: number[];
  home: string;
}

const ID = /^\d+$/;

/** /etc/passwd lines `name:x:uid:gid:gecos:home:shell`; malformed lines are skipped, as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(":");
    if (f.length < 4 || !f[0] || !ID.test(f[2]!) || !ID.test(f[3]!)) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || "/" });
  }
  return out;
}

/** /etc/group lines `name:x:gid:member,member`. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(":");
    if (f.length < 3 || !f[0] || !ID.test(f[2]!)) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? "").split(",").filter(Boolean) });
  }
  return out;
}

const MAX_ID = 2 ** 31 - 1;

function numericId(s: string, what: string): number {
  const n = Number(s);
  if (n > MAX_ID) throw new RuntimeUsageError(`${what} ${s} is out of range`);
  return n;
}

/**
 * Resolves `-u`/`USER` as Docker does (moby/sys/user, then the daemon's getUser):
 * `name|uid[:group|gid]` against the container's own passwd and group files; no user is uid 0.
 * A numeric uid need not exist (it then gets gid 0 and home /); a name must. The groups are the
 * gid, then (unless a group was given) every group that lists the user's name as a member.
 */
export function resolveUser(spec: string, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const [userPart = "", groupPart, ...rest] = spec.split(":");
  if (rest.length > 0) throw new RuntimeUsageError(`invalid user "${spec}"`);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === "") {
    entry = passwd.find((p) => p.uid === 0);
    uid = 0;
  } else if (ID.test(userPart)) {
    uid = numericId(userPart, "uid");
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry)
      throw new RuntimeUsageError(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== "") {
    if (ID.test(groupPart)) gid = numericId(groupPart, "gid");
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g)
        throw new RuntimeUsageError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additionalGids = [gid];
  if (entry && (groupPart === undefined || groupPart === "")) {
    for (const g of groups) if (g.members.includes(entry.name)) additionalGids.push(g.gid);
  }
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}
