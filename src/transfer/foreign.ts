import type { Descriptor } from "../oci/descriptor.js";
import { NetworkError, RemoteError } from "../remote/errors.js";
import { Agent, redirect } from "../remote/transport/undici-agent.js";
import { InvalidImageError } from "./errors.js";
import type { BlobStream } from "./types.js";

let agent: ReturnType<InstanceType<typeof Agent>["compose"]> | undefined;

/**
 * The bytes of a foreign layer (one kept outside registries, such as a Windows base layer),
 * fetched from the first of its descriptor's URLs that answers, as Docker fetches them on
 * pull. Only http and https URLs are tried; the caller verifies the digest as for any blob.
 */
export async function fetchForeignLayer(desc: Descriptor, offset = 0): Promise<BlobStream> {
  agent ??= new Agent({ connections: 4 }).compose(redirect({ maxRedirections: 5 }));
  let failure: Error | undefined;
  for (const raw of desc.urls ?? []) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "GET",
        headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      });
      if (res.statusCode === 200 || res.statusCode === 206) {
        return { stream: res.body, offset: res.statusCode === 206 ? offset : 0 };
      }
      const text = await res.body.text();
      failure = await RemoteError.fromResponse(
        res.statusCode,
        text,
        `foreign layer ${desc.digest} at ${raw}`,
      );
    } catch (err) {
      failure = new NetworkError(raw, err);
    }
  }
  throw (
    failure ??
    new InvalidImageError(`foreign layer ${desc.digest} names no http or https URL to fetch it from`)
  );
}
