import { rootCertificates } from "node:tls";
import type { Dispatcher } from "undici";
import type { TlsTrust } from "../tls-trust.js";
import { Agent, redirect } from "./undici-agent.js";

/**
 * Keep-alive connections per origin; redirects followed (blobs are often served from
 * elsewhere; undici drops the Authorization header when a redirect leaves the origin).
 */
const AGENT_OPTIONS = { connections: 16, keepAliveTimeout: 30_000, pipelining: 1 };
export const MAX_REDIRECTIONS = 5;

let shared: Dispatcher | undefined;

/** The pool every client without TLS settings of its own shares, so connections are reused across registries' clients. */
function sharedAgent(): Dispatcher {
  shared ??= new Agent(AGENT_OPTIONS).compose(redirect({ maxRedirections: MAX_REDIRECTIONS }));
  return shared;
}

/**
 * The connections of one client: the shared pool, or a pool of its own when it trusts extra
 * CAs or presents a client certificate (Node's `ca` replaces the system roots, so they are
 * added back), and, for a registry Docker would call insecure, a pool that does not verify
 * the registry's certificate, used for that registry's own origin only.
 */
export class ConnectionPool {
  private own?: Dispatcher;
  private unverified?: Dispatcher;

  constructor(
    private readonly tls?: TlsTrust,
    /** The https origin whose certificate is not checked (an insecure registry's). */
    private readonly unverifiedOrigin?: string,
  ) {}

  /** The dispatcher for a request to this origin. */
  for(origin: string): Dispatcher {
    if (this.unverifiedOrigin !== undefined && origin === this.unverifiedOrigin) {
      this.unverified ??= new Agent({
        ...AGENT_OPTIONS,
        connect: { rejectUnauthorized: false, cert: this.tls?.cert, key: this.tls?.key },
      }).compose(redirect({ maxRedirections: MAX_REDIRECTIONS }));
      return this.unverified;
    }
    if (!this.tls) return sharedAgent();
    this.own ??= new Agent({
      ...AGENT_OPTIONS,
      connect: {
        ca: [...rootCertificates, ...this.tls.ca.map((c) => c.toString())],
        cert: this.tls.cert,
        key: this.tls.key,
      },
    }).compose(redirect({ maxRedirections: MAX_REDIRECTIONS }));
    return this.own;
  }

  /** Closes the pools this client owns (the shared one stays for the others). */
  async close(): Promise<void> {
    await Promise.all([this.own?.close(), this.unverified?.close()]);
    this.own = undefined;
    this.unverified = undefined;
  }
}
