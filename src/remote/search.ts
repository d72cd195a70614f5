import { urls } from "../oci/distribution-routes.js";
import { RemoteError } from "./errors.js";
import { nextLink } from "./repository.js";
import type { RegistryClient } from "./transport/client.js";

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/**
 * Searches a registry: Docker's /v1/search where the registry has it (Docker Hub, Berth),
 * otherwise the names from _catalog that contain the term.
 */
export async function searchRegistry(
  client: RegistryClient,
  term: string,
  limit: number,
): Promise<SearchResult[]> {
  const v1 = await client
    .request({
      method: "GET",
      path: `${urls.search()}?${new URLSearchParams({ q: term, n: String(limit) }).toString()}`,
    })
    // A registry that guards /v1/search with auth it cannot grant still has a catalog to try.
    .catch((err: unknown) => {
      if (err instanceof RemoteError && (err.status === 401 || err.status === 403)) return undefined;
      throw err;
    });
  if (v1?.statusCode === 200) {
    const body = (await v1.body.json()) as { results?: SearchResult[] };
    return (body.results ?? []).slice(0, limit);
  }
  await v1?.body.dump();
  const names: string[] = [];
  let path: string | undefined = `${urls.catalog()}?n=1000`;
  while (path) {
    const { value, res } = await client.json<{ repositories?: string[] }>({ method: "GET", path }, "catalog");
    names.push(...(value.repositories ?? []));
    path = nextLink(res.headers.link);
  }
  const needle = term.toLowerCase();
  return names
    .filter((n) => n.toLowerCase().includes(needle))
    .slice(0, limit)
    .map((name) => ({ name, description: "", star_count: 0, is_official: false, is_automated: false }));
}
