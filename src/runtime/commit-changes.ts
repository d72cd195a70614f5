import type { ContainerConfig } from "../oci/manifest.js";
import { RuntimeUsageError } from "./errors.js";

const SUPPORTED = [
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "ONBUILD",
  "USER",
  "VOLUME",
  "WORKDIR",
  "STOPSIGNAL",
];

/** JSON form (`["a","b"]`) or shell form (`/bin/sh -c "…"`), as a Dockerfile reads them. */
function commandForm(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith("[")) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    } catch {}
  }
  return ["/bin/sh", "-c", t];
}

/** `KEY=value KEY2="v 2"` or the old `KEY value` form. */
function pairs(rest: string): [string, string][] {
  const t = rest.trim();
  if (!/^[^\s=]+=/.test(t)) {
    const m = /^(\S+)\s+(.*)$/.exec(t);
    if (!m) throw new RuntimeUsageError(`dockerfile parse error: ${rest}: must have two arguments`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of t.matchAll(re)) {
    let v = m[2]!;
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

/** `commit -c`: the Dockerfile instructions docker commit accepts, applied to the new image's config. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const c: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    const instr = m?.[1]?.toUpperCase();
    if (!m || !instr || !SUPPORTED.includes(instr))
      throw new RuntimeUsageError(`${(m?.[1] ?? change).toLowerCase()} is not a valid change command`);
    const rest = m[2]!;
    switch (instr) {
      case "CMD":
        c.Cmd = commandForm(rest);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = commandForm(rest);
        break;
      case "ENV": {
        let env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest)) env = [...env.filter((e) => e.split("=", 1)[0] !== k), `${k}=${v}`];
        c.Env = env;
        break;
      }
      case "LABEL":
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest)) };
        break;
      case "EXPOSE": {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) ports[p.includes("/") ? p : `${p}/tcp`] = {};
        c.ExposedPorts = ports;
        break;
      }
      case "USER":
        c.User = rest.trim();
        break;
      case "WORKDIR":
        c.WorkingDir = rest.trim();
        break;
      case "STOPSIGNAL":
        c.StopSignal = rest.trim();
        break;
      case "VOLUME": {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of rest.trim().startsWith("[")
          ? (JSON.parse(rest) as string[])
          : rest.trim().split(/\s+/))
          vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case "ONBUILD":
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
    }
  }
  return c;
}
