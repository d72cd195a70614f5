import { urls } from "../../oci/distribution-routes.js";
import { type Context, paginate, pagination, sendJson } from "../http.js";

export async function listCatalog(ctx: Context): Promise<void> {
  const { n, last } = pagination(ctx.query);
  // Filtered before paginating, so that n, last and Link count only what the caller may see.
  const visibleRepositories = (await ctx.services.catalog.list()).filter((name) => ctx.mayPull(name));
  const { page, link } = paginate(visibleRepositories, n, last, urls.catalog());
  sendJson(ctx, 200, { repositories: page }, link ? { Link: link } : {});
}
