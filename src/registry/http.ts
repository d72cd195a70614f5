import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Digest } from "../oci/digest.js";
import { RegistryError } from "./errors.js";
import type { RegistryServices } from "./services/registry-services.js";

export interface RegistryOptions {
  deleteEnabled: boolean;
  /** A presigned URL for a blob's storage path: blob GETs answer 307 to it (storage.s3.redirect). */
  blobRedirect?: (path: string) => Promise<string>;
}

/** What every handler gets: the request, its parsed URL parts and the registry's services. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  services: RegistryServices;
  options: RegistryOptions;
  log: Logger;
  /** Whether the caller may pull a repository: the catalog lists only those, mounts need it. */
  mayPull(name: string): boolean;
}

export const API_VERSION_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" } as const;

export function send(
  ctx: Context,
  status: number,
  headers: Record<string, string | number>,
  body?: Buffer | string,
): void {
  const { res, req } = ctx;
  const payload = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...API_VERSION_HEADER,
    ...(payload !== undefined && !("Content-Length" in headers) ? { "Content-Length": payload.length } : {}),
    ...headers,
  });
  if (req.method === "HEAD" || payload === undefined) res.end();
  else res.end(payload);
}

export function sendJson(
  ctx: Context,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(ctx, status, { "Content-Type": "application/json", ...headers }, JSON.stringify(value));
}

export function sendError(res: ServerResponse, req: IncomingMessage, err: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify(err.toBody()));
  res.writeHead(err.status, {
    ...API_VERSION_HEADER,
    "Content-Type": "application/json",
    "Content-Length": body.length,
    ...err.headers,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Reads a small request body (a manifest) whole, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  if (declared !== undefined && total !== declared) {
    throw new RegistryError("SIZE_INVALID", "body length does not match Content-Length");
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): RegistryError {
  return new RegistryError("SIZE_INVALID", `body exceeds the limit of ${limit} bytes`, { limit }, 413);
}

export function contentLength(req: IncomingMessage): number | undefined {
  const raw = req.headers["content-length"];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new RegistryError("SIZE_INVALID", "invalid Content-Length");
  return Number(raw);
}

/** Whether the request has a body: a positive Content-Length or chunked transfer encoding. */
export function hasBody(req: IncomingMessage): boolean {
  const length = contentLength(req);
  if (length !== undefined) return length > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

/** Parses an upload chunk's Content-Range, "start-end" (also accepting a "bytes " prefix). */
export function parseContentRange(req: IncomingMessage): { start: number; end: number } | undefined {
  const raw = req.headers["content-range"];
  if (raw === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(raw.trim());
  if (!m) throw new RegistryError("RANGE_INVALID", `invalid Content-Range: ${raw}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** A single byte range from a Range header, clamped to the object's size (RFC 9110). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "invalid" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "invalid";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "invalid";
  return { start, end };
}

/** Parses a digest from a URL or query parameter: 400 DIGEST_INVALID when it is not one. */
export function parseDigestParam(value: string): Digest {
  try {
    return Digest.parse(value);
  } catch (err) {
    throw new RegistryError("DIGEST_INVALID", `invalid digest: ${(err as Error).message}`, { digest: value });
  }
}

/** Parses `n` and `last` for tag and catalog pagination. */
export function pagination(query: URLSearchParams): { n?: number; last?: string } {
  const rawN = query.get("n");
  let n: number | undefined;
  if (rawN !== null && rawN !== "") {
    if (!/^\d+$/.test(rawN))
      throw new RegistryError("UNSUPPORTED", `invalid page size n=${rawN}`, undefined, 400);
    n = Number(rawN);
  }
  const last = query.get("last") ?? undefined;
  return { n, last: last === "" ? undefined : last };
}

/** Applies n/last to a sorted list; returns the page and, when more follow, the Link header value. */
export function paginate(
  items: string[],
  n: number | undefined,
  last: string | undefined,
  path: string,
): { page: string[]; link?: string } {
  let start = 0;
  if (last !== undefined) {
    start = items.findIndex((item) => item > last);
    if (start < 0) start = items.length;
  }
  if (n === undefined) return { page: items.slice(start) };
  const page = items.slice(start, start + n);
  if (start + n >= items.length || page.length === 0) return { page };
  const params = new URLSearchParams({ n: String(n), last: page[page.length - 1]! });
  return { page, link: `<${path}?${params.toString()}>; rel="next"` };
}
