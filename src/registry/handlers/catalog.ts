import { type Context, paginate, pagination, sendJson } from "../http.js";
import { urls } from "../routes.js";

export async function listCatalog(ctx: Context): Promise<void> {
  const { n, last } = pagination(ctx.query);
  const { page, link } = paginate(await ctx.store.listRepositories(), n, last, urls.catalog());
  sendJson(ctx, 200, { repositories: page }, link ? { Link: link } : {});
}
