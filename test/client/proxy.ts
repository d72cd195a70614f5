import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxyHooks {
  /** Called for every request; return "corrupt" to flip a byte of a blob body, "cut" to drop the connection part-way. */
  blob?: (digest: string, req: IncomingMessage) => "pass" | "corrupt" | "cut" | "slow";
}

export interface Proxy {
  host: string;
  /** Every request seen, as "METHOD path range". */
  log: string[];
  /** Bytes of blob bodies sent to clients. */
  blobBytes: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy in front of a registry, for faults a real registry never makes: corrupt
 * blob bytes, connections cut mid-blob, slow blobs. It also records what clients asked for.
 */
export async function startProxy(target: string, hooks: ProxyHooks = {}): Promise<Proxy> {
  const [targetHost, targetPort] = target.split(":");
  const log: string[] = [];
  const blobBytes = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    log.push(`${req.method} ${req.url} ${req.headers.range ?? ""}`.trim());
    const blobMatch = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? "");
    const mode = blobMatch && req.method === "GET" ? (hooks.blob?.(blobMatch[1]!, req) ?? "pass") : "pass";
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let sent = 0;
        let flipped = false;
        up.on("data", (chunk: Buffer) => {
          if (mode === "corrupt" && !flipped && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = chunk[0]! ^ 0xff;
            flipped = true;
          }
          sent += chunk.length;
          if (blobMatch) blobBytes.set(blobMatch[1]!, (blobBytes.get(blobMatch[1]!) ?? 0) + chunk.length);
          if (mode === "cut" && sent > 1024 * 1024) {
            up.destroy();
            res.destroy();
            return;
          }
          if (mode === "slow") {
            up.pause();
            res.write(chunk, () => setTimeout(() => up.resume(), 20));
          } else {
            res.write(chunk);
          }
        });
        up.on("end", () => res.end());
        // A client that went away (a killed pull) must not go on being counted.
        res.on("close", () => up.destroy());
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    log,
    blobBytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
