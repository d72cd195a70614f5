import { RegistryError } from "../errors.js";
import { type Context, sendJson } from "../http.js";

/**
 * GET /v1/search?q=TERM&n=N: Docker's search API over this registry's repositories, so that
 * `docker search` and `berth search` work against it. A repository matches when its name
 * contains the term; Berth has no stars or official images, so those are zero and false.
 */
export async function search(ctx: Context): Promise<void> {
  const query = (ctx.query.get("q") ?? "").trim().toLowerCase();
  const rawN = ctx.query.get("n");
  const n = rawN === null || rawN === "" ? 25 : Number(rawN);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new RegistryError("UNSUPPORTED", "n must be between 1 and 100", { n: rawN }, 400);
  }
  const matches = (await ctx.services.catalog.list()).filter(
    (name) => name.includes(query) && ctx.mayPull(name),
  );
  const results = matches.slice(0, n).map((name) => ({
    name,
    description: "",
    star_count: 0,
    is_official: false,
    is_automated: false,
  }));
  sendJson(ctx, 200, {
    num_results: matches.length,
    query,
    page: 1,
    page_size: n,
    num_pages: Math.max(1, Math.ceil(matches.length / n)),
    results,
  });
}
