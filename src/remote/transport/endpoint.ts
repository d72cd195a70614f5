import { DEFAULT_REGISTRY } from "../../oci/reference.js";

/** Whether Docker would talk plain HTTP to this registry by default: localhost and loopback. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host serving a registry name as references spell it (docker.io is served by registry-1.docker.io). */
export function registryHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

/**
 * Where a registry is reached: HTTPS; plain HTTP for localhost and 127.0.0.0/8 (Berth goes
 * straight to HTTP there); and for a registry configured as insecure, Docker's fallback:
 * HTTPS without checking the certificate first, plain HTTP when HTTPS cannot be spoken. The
 * choice is made once, by the first ping, and kept.
 */
export class Endpoint {
  readonly candidates: readonly string[];
  private chosen: number | undefined;

  constructor(
    readonly registry: string,
    readonly insecure = false,
  ) {
    const host = registryHost(registry);
    if (insecure) this.candidates = [`https://${host}`, `http://${host}`];
    else this.candidates = [isLoopbackRegistry(registry) ? `http://${host}` : `https://${host}`];
    if (this.candidates.length === 1) this.chosen = 0;
  }

  /** The scheme and host requests go to: the chosen one, or the one being tried. */
  get baseUrl(): string {
    return this.candidates[this.chosen ?? 0]!;
  }

  /** Whether the scheme is known; until it is, the first request pings. */
  get settled(): boolean {
    return this.chosen !== undefined;
  }

  /** The HTTPS origin whose certificate is not checked: an insecure registry's. */
  get unverifiedOrigin(): string | undefined {
    return this.insecure ? this.candidates[0] : undefined;
  }

  /** Keeps the scheme being tried. */
  settle(): void {
    this.chosen ??= 0;
  }

  /** Gives up the scheme being tried for the next one (plain HTTP). */
  fallBack(): void {
    this.chosen = this.candidates.length - 1;
  }
}
