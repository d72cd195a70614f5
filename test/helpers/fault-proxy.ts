import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The faults a real network makes, each injected once per resource (the first try of it). */
export interface Faults {
  /** The first GET of each blob: headers and half the body, then the connection is cut. */
  cutBlobs?: boolean;
  /** The first GET or HEAD of each manifest: 503. */
  manifests503?: boolean;
  /** The first tags list of each repository: 429 with Retry-After: 1. */
  tags429?: boolean;
  /** The first PATCH of each upload: the body is read (not forwarded), then 503. */
  patch503?: boolean;
  /**
   * The first PATCH of each blob (told apart by repository and length, as a PATCH does not name
   * its blob), if it opens its upload session: half the body is forwarded, then both connections
   * are cut. The PATCH that resumes the session, or the one of a new session, passes.
   */
  cutPatch?: boolean;
  /** The first closing PUT of each upload: 503 (not forwarded). */
  put503?: boolean;
}

export interface FaultProxy {
  host: string;
  /** Faults injected so far, by kind. */
  injected: Record<string, number>;
  /** Every request as "METHOD path", with the time it arrived. */
  log: { line: string; at: number }[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real registry that breaks the first try of each request of a
 * kind, so that a client passes only if it retries the right way, and fails if it does not.
 */
export async function startFaultProxy(target: string, faults: Faults): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(":");
  const seen = new Set<string>();
  const patched = new Set<string>();
  const injected: Record<string, number> = {};
  const log: { line: string; at: number }[] = [];
  const first = (kind: string, key: string): boolean => {
    const k = `${kind} ${key}`;
    if (seen.has(k)) return false;
    seen.add(k);
    injected[kind] = (injected[kind] ?? 0) + 1;
    return true;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    onResponse?: (up: IncomingMessage) => boolean,
  ) => {
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (onResponse?.(up)) return;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        res.on("close", () => up.destroy());
      },
    );
    upstream.on("error", () => res.destroy());
    return upstream;
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    const range = req.method === "PATCH" ? ` ${req.headers["content-range"] ?? ""}` : "";
    log.push({ line: `${req.method} ${path}${range}`.trimEnd(), at: Date.now() });
    const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    const manifest = /\/manifests\/[^/]+$/.test(path);
    const tags = /\/tags\/list$/.test(path);
    const upload = /\/blobs\/uploads\/[^/]+$/.test(path);
    const refuse = (status: number, headers: Record<string, string> = {}) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        const code = status === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE";
        res.end(JSON.stringify({ errors: [{ code, message: "injected fault" }] }));
      });
    };

    if (faults.manifests503 && manifest && (req.method === "GET" || req.method === "HEAD")) {
      if (first("manifest503", `${req.method} ${path}`)) return refuse(503);
    }
    if (faults.tags429 && tags && first("tags429", path)) return refuse(429, { "Retry-After": "1" });
    if (upload && req.method === "PATCH") {
      if (faults.patch503 && first("patch503", path)) return refuse(503);
      const repository = path.replace(/\/blobs\/uploads\/[^/]+$/, "");
      const firstOfSession = !patched.has(path);
      patched.add(path);
      if (
        faults.cutPatch &&
        firstOfSession &&
        first("cutPatch", `${repository} ${req.headers["content-length"]}`)
      ) {
        const length = Number(req.headers["content-length"] ?? 0);
        let passed = 0;
        const upstream = forward(req, res, () => true);
        req.on("data", (chunk: Buffer) => {
          if (passed >= length / 2) return;
          passed += chunk.length;
          upstream.write(chunk);
          if (passed >= length / 2) {
            // Let the registry take what it got, then cut both sides, as a network failure would.
            setTimeout(() => {
              upstream.destroy();
              req.destroy();
              res.destroy();
            }, 200);
          }
        });
        return;
      }
    }
    if (faults.put503 && upload && req.method === "PUT" && first("put503", path)) return refuse(503);
    if (faults.cutBlobs && blob && req.method === "GET" && !req.headers.range && first("cutBlob", path)) {
      const upstream = forward(req, res, (up) => {
        const length = Number(up.headers["content-length"] ?? 0);
        res.writeHead(up.statusCode ?? 502, up.headers);
        let sent = 0;
        up.on("data", (chunk: Buffer) => {
          if (sent >= length / 2) return;
          const piece = chunk.subarray(0, Math.max(0, Math.ceil(length / 2) - sent));
          sent += piece.length;
          res.write(piece);
          if (sent >= length / 2) {
            up.destroy();
            res.socket?.destroy();
          }
        });
        return true;
      });
      req.pipe(upstream);
      return;
    }
    req.pipe(forward(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    injected,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
