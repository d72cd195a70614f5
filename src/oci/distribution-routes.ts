/**
 * The distribution API's URL shapes, for the server's router and the client alike, so that the
 * two cannot drift. Repository names contain slashes, so each route anchors on its suffix.
 */
export type RouteName =
  | "base"
  | "catalog"
  | "search"
  | "tags"
  | "manifest"
  | "blob"
  | "uploadStart"
  | "upload"
  | "referrers";

export interface RouteMatch {
  route: RouteName;
  name?: string;
  reference?: string;
  digest?: string;
  uuid?: string;
}

const patterns: [RouteName, RegExp][] = [
  ["tags", /^\/v2\/(.+)\/tags\/list$/],
  ["manifest", /^\/v2\/(.+)\/manifests\/([^/]+)$/],
  ["uploadStart", /^\/v2\/(.+)\/blobs\/uploads\/?$/],
  ["upload", /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/],
  ["blob", /^\/v2\/(.+)\/blobs\/([^/]+)$/],
  ["referrers", /^\/v2\/(.+)\/referrers\/([^/]+)$/],
];

/** Matches a request path (without the query string). Returns undefined for paths outside the API. */
export function matchRoute(path: string): RouteMatch | undefined {
  if (path === "/v2/" || path === "/v2") return { route: "base" };
  if (path === "/v2/_catalog") return { route: "catalog" };
  if (path === "/v1/search") return { route: "search" };
  if (!path.startsWith("/v2/")) return undefined;
  for (const [route, re] of patterns) {
    const m = re.exec(path);
    if (!m) continue;
    const name = m[1]!;
    switch (route) {
      case "tags":
      case "uploadStart":
        return { route, name };
      case "manifest":
        return { route, name, reference: m[2]! };
      case "upload":
        return { route, name, uuid: m[2]! };
      case "blob":
      case "referrers":
        return { route, name, digest: m[2]! };
      default:
        return undefined;
    }
  }
  return undefined;
}

export const urls = {
  base: () => "/v2/",
  catalog: () => "/v2/_catalog",
  search: () => "/v1/search",
  tags: (name: string) => `/v2/${name}/tags/list`,
  manifest: (name: string, reference: string) => `/v2/${name}/manifests/${reference}`,
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  uploadStart: (name: string) => `/v2/${name}/blobs/uploads/`,
  upload: (name: string, uuid: string) => `/v2/${name}/blobs/uploads/${uuid}`,
  referrers: (name: string, digest: string) => `/v2/${name}/referrers/${digest}`,
};
