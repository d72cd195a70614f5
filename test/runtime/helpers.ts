import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { berth, berthOk, tempRoot } from "../client/berth.js";
import { fixtureDir } from "../helpers/fixtures.js";

/** A store with busybox:1 and app:1 loaded from the fixtures (no registry needed). */
export async function storeWithFixtures(): Promise<string> {
  const root = await tempRoot("berth-ctr-");
  await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "busybox.tar")]);
  await berthOk(root, ["load", "-q", "-i", join(fixtureDir(), "oci")]);
  const app = (
    await berthOk(root, ["images", "-q", "--filter", "label=org.opencontainers.image.title=app"])
  ).stdout.trim();
  await berthOk(root, ["tag", app, "app:1"]);
  return root;
}

/** The cgroup directories runc makes for a container (relative cgroupsPath: under our own cgroup). */
export function cgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").trim().split("\n")) {
    const [, controllers, path] = line.split(":");
    for (const c of (controllers ?? "").split(",")) {
      if (!c || c.startsWith("name=")) continue;
      out.push(join("/sys/fs/cgroup", c, path ?? "/", `berth-${id}`));
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
}

/** What a container may leave on the machine: mounts, cgroups, its network namespace, processes. */
export function leftovers(root: string, id: string, pids: number[]): string[] {
  const out: string[] = [];
  out.push(...mountsUnder(join(root, "containers", id)).map((m) => `mount ${m}`));
  out.push(
    ...cgroupDirs(id)
      .filter((d) => existsSync(d))
      .map((d) => `cgroup ${d}`),
  );
  if (existsSync(`/run/netns/berth-${id}`)) out.push("netns");
  for (const p of pids) {
    if (!p || !alive(p)) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {}
    out.push(`process ${p} ${cmd}`);
  }
  if (existsSync(join(root, "containers", id))) out.push("directory");
  if (existsSync("/run/berth/sock") && readdirSync("/run/berth/sock").includes(id))
    out.push("attach socket link");
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: inspect output is JSON read by the tests field by field
export async function inspect(root: string, name: string): Promise<Record<string, any>> {
  const r = await berthOk(root, ["container", "inspect", name]);
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return (JSON.parse(r.stdout) as Record<string, any>[])[0]!;
}

export { waitFor } from "../helpers/processes.js";
export { berth, berthOk };
