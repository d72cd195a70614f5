import { NetworkError } from "../errors.js";
import { type KnownChallenge, pickChallenge } from "./challenge.js";
import type { Endpoint } from "./endpoint.js";
import type { Layer, Send, TransportRequest } from "./request.js";

export interface PingResult {
  /** The status of GET /v2/: 200 open, 401 wants credentials, anything else is not a registry's answer. */
  status: number;
  /** How the registry wants clients to authenticate; null when it did not ask. */
  challenge: KnownChallenge | null;
}

/** GET /v2/ without credentials, to learn whether and how the registry wants clients to authenticate. */
export async function ping(send: Send): Promise<PingResult> {
  const res = await send({ method: "GET", path: "/v2/" });
  const challenge = res.statusCode === 401 ? (pickChallenge(res.headers["www-authenticate"]) ?? null) : null;
  await res.body.dump();
  return { status: res.statusCode, challenge };
}

/**
 * The ping that also chooses the scheme of a registry Docker would call insecure: one try
 * over HTTPS (`probe`: no retries, the certificate not checked), and when no HTTPS answer
 * comes (a plain-HTTP server, nothing listening), plain HTTP through `send`. Once chosen, the
 * scheme is kept, as Docker keeps the endpoint that answered.
 */
export async function pingEndpoint(endpoint: Endpoint, probe: Send, send: Send): Promise<PingResult> {
  if (endpoint.settled) return ping(send);
  try {
    const result = await ping(probe);
    endpoint.settle();
    return result;
  } catch (err) {
    if (!(err instanceof NetworkError)) throw err;
    endpoint.fallBack();
    return ping(send);
  }
}

/**
 * Pings before a request that needs it (`needed`): while the scheme is still to be chosen,
 * or before a streamed body when the challenge is not known, so that the body goes out
 * authorised the first time. Requests that start together share one ping.
 */
export function withPing(
  needed: (req: TransportRequest) => boolean,
  pingOnce: () => Promise<unknown>,
): Layer {
  return (next) => async (req) => {
    if (needed(req)) await pingOnce();
    return next(req);
  };
}
