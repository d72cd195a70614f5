import type { Dispatcher } from "undici";

/** A repository scope of Docker's token protocol: "repository:NAME:pull,push". */
export interface Scope {
  repository: string;
  actions: ("pull" | "push" | "delete")[];
}

/** One request to a registry, as it goes down the layers of a client. */
export interface TransportRequest {
  method: Dispatcher.HttpMethod;
  /** A path on the registry ("/v2/…"), or an absolute URL (an upload's Location, a token realm). */
  path: string;
  headers?: Record<string, string>;
  /** undici also takes an async iterable (its docs list it; its types do not yet). */
  body?: Dispatcher.DispatchOptions["body"] | AsyncIterable<Uint8Array>;
  /** What the request needs of the token service; a cross-repository mount needs two repositories. */
  scope?: Scope | Scope[];
  /** A body that cannot be sent twice: the request is authorised before it is sent, and never repeated. */
  streaming?: boolean;
  /**
   * Whether the request may be repeated on a transient failure. Default: yes, unless the body
   * is streamed. A request whose effect cannot be checked afterwards must say no.
   */
  retry?: boolean;
}

export type TransportResponse = Dispatcher.ResponseData;

/** Sends a request and resolves with the answer's head (its body still to be read). */
export type Send = (req: TransportRequest) => Promise<TransportResponse>;

/**
 * One concern of a client (authentication, retries, …) wrapped around the next, as
 * go-containerregistry stacks its RoundTrippers: it may change the request, send it several
 * times, or answer without sending it.
 */
export type Layer = (next: Send) => Send;

/** The layers around `base`, the first one outermost: compose(base, a, b) sends through a, then b, then base. */
export function compose(base: Send, ...layers: Layer[]): Send {
  return layers.reduceRight<Send>((next, layer) => layer(next), base);
}

export function withHeader(req: TransportRequest, name: string, value: string): TransportRequest {
  return { ...req, headers: { ...req.headers, [name]: value } };
}

/** "repository:NAME:pull,push" strings for a request's scopes, one per repository. */
export function scopeStrings(scope: Scope | Scope[] | undefined): string[] {
  const list = scope === undefined ? [] : Array.isArray(scope) ? scope : [scope];
  const byRepository = new Map<string, Set<string>>();
  for (const s of list) {
    const actions = byRepository.get(s.repository) ?? new Set<string>();
    for (const a of s.actions) actions.add(a);
    byRepository.set(s.repository, actions);
  }
  return [...byRepository].map(([name, actions]) => `repository:${name}:${[...actions].join(",")}`);
}
