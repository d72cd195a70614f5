import type { RawPackage } from "../model.js";

type Json = Record<string, unknown>;

function licensesOf(pkg: Json): string[] {
  const l = pkg.license;
  if (typeof l === "string") return [l];
  if (l && typeof l === "object" && typeof (l as Json).type === "string") return [(l as Json).type as string];
  if (Array.isArray(pkg.licenses)) {
    return pkg.licenses
      .map((x) =>
        typeof x === "string" ? x : typeof (x as Json)?.type === "string" ? ((x as Json).type as string) : "",
      )
      .filter(Boolean);
  }
  return [];
}

/** An installed package's `node_modules/NAME/package.json`. */
export function parsePackageJson(text: string, location: string): RawPackage[] {
  const pkg = JSON.parse(text) as Json;
  if (typeof pkg?.name !== "string" || typeof pkg.version !== "string") return [];
  return [{ type: "npm", name: pkg.name, version: pkg.version, licenses: licensesOf(pkg), location }];
}

/**
 * An application's `package-lock.json` (npm's lockfile v1, v2 and v3): v2/v3 list every installed
 * path under `packages` (`node_modules/a/node_modules/b`); v1 nests `dependencies`. The root
 * project itself (key "") and links are not packages of the image.
 */
export function parsePackageLock(text: string, location: string): RawPackage[] {
  const lock = JSON.parse(text) as Json;
  const out: RawPackage[] = [];
  const seen = new Set<string>();
  const add = (name: string, version: unknown, meta: Json) => {
    if (typeof version !== "string" || version === "" || /^(file|link|git|http)/.test(version)) return;
    const key = `${name}@${version}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ type: "npm", name, version, licenses: licensesOf(meta), location });
  };
  const packages = lock.packages as Record<string, Json> | undefined;
  if (packages && typeof packages === "object") {
    for (const [path, meta] of Object.entries(packages)) {
      if (path === "" || !meta || meta.link) continue;
      const i = path.lastIndexOf("node_modules/");
      if (i < 0) continue;
      add((meta.name as string) ?? path.slice(i + "node_modules/".length), meta.version, meta);
    }
    return out;
  }
  const walk = (deps: unknown) => {
    if (!deps || typeof deps !== "object") return;
    for (const [name, meta] of Object.entries(deps as Record<string, Json>)) {
      add(name, meta?.version, meta ?? {});
      walk(meta?.dependencies);
    }
  };
  walk(lock.dependencies);
  return out;
}
