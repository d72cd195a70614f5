import { PackageURL } from "packageurl-js";
import type { Distro, PackageType } from "./model.js";

/** The package URL of a package, by the purl specification's rules for its type (packageurl-js encodes). */
export function purlOf(
  type: PackageType,
  name: string,
  version: string,
  opts: { arch?: string; distro?: Distro; upstream?: string } = {},
): string {
  let namespace: string | undefined;
  let pname = name;
  const qualifiers: Record<string, string> = {};
  switch (type) {
    case "deb":
    case "rpm":
    case "apk":
      namespace = opts.distro?.id ?? (type === "deb" ? "debian" : type === "apk" ? "alpine" : undefined);
      if (opts.arch) qualifiers.arch = opts.arch;
      if (opts.upstream && opts.upstream !== name) qualifiers.upstream = opts.upstream;
      if (opts.distro?.id)
        qualifiers.distro = opts.distro.versionId
          ? `${opts.distro.id}-${opts.distro.versionId}`
          : opts.distro.id;
      break;
    case "npm": {
      const slash = name.indexOf("/");
      if (name.startsWith("@") && slash > 0) {
        namespace = name.slice(0, slash);
        pname = name.slice(slash + 1);
      }
      break;
    }
    case "pypi":
      pname = name.toLowerCase().replace(/[-_.]+/g, "-");
      break;
    case "golang": {
      const slash = name.lastIndexOf("/");
      if (slash > 0) {
        namespace = name.slice(0, slash);
        pname = name.slice(slash + 1);
      }
      break;
    }
    case "maven": {
      const colon = name.indexOf(":");
      if (colon > 0) {
        namespace = name.slice(0, colon);
        pname = name.slice(colon + 1);
      }
      break;
    }
  }
  return new PackageURL(
    type,
    namespace,
    pname,
    version || undefined,
    Object.keys(qualifiers).length ? qualifiers : undefined,
    undefined,
  ).toString();
}
