import type {
  Distro,
  InventoryPackage,
  LayerAnalysis,
  LayerRef,
  RawPackage,
  SourceFinding,
  UnreadableSource,
} from "./model.js";
import { purlOf } from "./purl.js";

/**
 * The image's packages from its layers' analyses, applied bottom to top as the union
 * filesystem applies them: an opaque directory hides what lower layers put under it, a
 * whiteout deletes a path and everything under it, and a file in a higher layer replaces the
 * same path below. A package is credited to the lowest layer from which it stays present up to
 * the top (a dpkg status rewritten by every layer that installs something still credits each
 * package to the layer that installed it).
 */
interface Placed {
  finding: SourceFinding;
  layer: number;
}

function under(path: string, dir: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

function packageKey(p: RawPackage): string {
  return `${p.type}\0${p.name}\0${p.version}\0${p.arch ?? ""}`;
}

/** The distribution: etc/os-release when it is a file, else usr/lib/os-release (etc's is usually a link to it). */
function distroOf(state: Map<string, Placed>): Distro | undefined {
  return state.get("etc/os-release")?.finding.distro ?? state.get("usr/lib/os-release")?.finding.distro;
}

function apply(state: Map<string, Placed>, analysis: LayerAnalysis, layer: number): void {
  for (const dir of analysis.opaque)
    for (const path of [...state.keys()]) if (under(path, dir) && path !== dir) state.delete(path);
  for (const gone of analysis.deleted)
    for (const path of [...state.keys()]) if (under(path, gone)) state.delete(path);
  for (const finding of analysis.sources) state.set(finding.path, { finding, layer });
}

export interface MergedInventory {
  distro?: Distro;
  packages: InventoryPackage[];
  unreadable: UnreadableSource[];
}

export function mergeLayers(analyses: LayerAnalysis[], layers: LayerRef[]): MergedInventory {
  const state = new Map<string, Placed>();
  const since = new Map<string, number>();
  for (let i = 0; i < analyses.length; i++) {
    apply(state, analyses[i]!, i);
    const present = new Set<string>();
    for (const { finding } of state.values()) for (const p of finding.packages) present.add(packageKey(p));
    for (const key of [...since.keys()]) if (!present.has(key)) since.delete(key);
    for (const key of present) if (!since.has(key)) since.set(key, i);
  }
  const distro = distroOf(state);
  const licenses = new Map<string, string[]>();
  for (const { finding } of state.values())
    for (const [name, l] of Object.entries(finding.licenses ?? {})) licenses.set(name, l);
  const byPurl = new Map<string, InventoryPackage>();
  const unreadable: UnreadableSource[] = [];
  const placed = [...state.values()].sort((a, b) => (a.finding.path < b.finding.path ? -1 : 1));
  for (const { finding, layer } of placed) {
    if (finding.error) {
      unreadable.push({
        path: `/${finding.path}`,
        kind: finding.kind,
        error: finding.error,
        layer: layers[layer]!,
      });
    }
    for (const raw of finding.packages) {
      const os = raw.type === "deb" || raw.type === "apk" || raw.type === "rpm";
      const purl = purlOf(raw.type, raw.name, raw.version, {
        arch: raw.arch,
        distro: os ? distro : undefined,
        upstream: raw.source,
      });
      const known = byPurl.get(purl);
      if (known) {
        if (!known.locations.includes(raw.location)) known.locations.push(raw.location);
        continue;
      }
      const licensed =
        raw.licenses.length === 0 && raw.type === "deb"
          ? (licenses.get(raw.name.split(":")[0]!) ?? [])
          : raw.licenses;
      byPurl.set(purl, {
        ...raw,
        licenses: licensed,
        purl,
        layer: layers[since.get(packageKey(raw)) ?? layer]!,
        locations: [raw.location],
      });
    }
  }
  const packages = [...byPurl.values()].sort(
    (a, b) =>
      (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return { distro, packages, unreadable };
}
