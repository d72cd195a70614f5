import { urls } from "../../oci/distribution-routes.js";
import { RegistryError } from "../errors.js";
import { type Context, paginate, pagination, sendJson } from "../http.js";

export async function listTags(ctx: Context, name: string): Promise<void> {
  const { n, last } = pagination(ctx.query);
  const tags = await ctx.services.tags.list(name);
  if (tags === undefined) throw new RegistryError("NAME_UNKNOWN", undefined, { name });
  const { page, link } = paginate(tags, n, last, urls.tags(name));
  sendJson(ctx, 200, { name, tags: page }, link ? { Link: link } : {});
}
