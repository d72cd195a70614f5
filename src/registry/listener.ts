import { createServer as createHttpServer, type Server as HttpServer, type RequestListener } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from "node:net";
import type { TlsCredentials } from "./tls-config.js";

export interface ListenerOptions {
  /** With credentials the port speaks HTTPS, and plain HTTP to loopback clients only. */
  tls?: TlsCredentials;
  keepAliveTimeoutMs: number;
}

/** The first byte of a TLS connection: a handshake record. No HTTP method starts with it. */
const TLS_HANDSHAKE_RECORD = 0x16;
/** A connection that sends nothing is dropped after this long (the HTTP servers time out the rest). */
const FIRST_BYTE_TIMEOUT_MS = 60_000;

// Go's servers answer plain HTTP on a TLS port with this text; clients such as skopeo show it.
const PLAIN_HTTP_REFUSED_TEXT = "Client sent an HTTP request to an HTTPS server.\n";
const PLAIN_HTTP_REFUSED = Buffer.from(
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" +
    `Content-Length: ${Buffer.byteLength(PLAIN_HTTP_REFUSED_TEXT)}\r\n\r\n${PLAIN_HTTP_REFUSED_TEXT}`,
);

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses (a dual-stack socket reports those). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4 === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The registry's listening port. Without TLS it is a plain HTTP server. With TLS one port serves
 * both protocols, so that tools on the host keep working over plain HTTP: each connection's first
 * byte tells a TLS handshake (handed to an HTTPS server) from an HTTP request (handed to the HTTP
 * server if the client is on loopback, else answered 400 and closed).
 */
export class Listener {
  private readonly http: HttpServer;
  private readonly https?: HttpsServer;
  private readonly front: NetServer;
  private readonly undecided = new Set<Socket>();

  constructor(handler: RequestListener, options: ListenerOptions) {
    this.http = createHttpServer({ keepAliveTimeout: options.keepAliveTimeoutMs }, handler);
    if (!options.tls) {
      this.front = this.http;
      return;
    }
    this.https = createHttpsServer(
      { cert: options.tls.cert, key: options.tls.key, keepAliveTimeout: options.keepAliveTimeoutMs },
      handler,
    );
    this.front = createNetServer((socket) => this.route(socket));
  }

  get tls(): boolean {
    return this.https !== undefined;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.front.once("error", reject);
      this.front.listen(port, host, () => {
        this.front.off("error", reject);
        resolve();
      });
    });
    if (this.https) {
      // The inner servers never listen themselves, but Node only tracks their connections (for
      // closeIdleConnections, closeAllConnections and request timeouts) once they emit 'listening'.
      this.http.emit("listening");
      this.https.emit("listening");
    }
    return this.front.address() as AddressInfo;
  }

  /** Stops accepting connections; resolves once every connection has ended. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.front.close(() => resolve()));
    if (this.https) {
      // close() on the inner servers stops their timers and ends their idle keep-alive connections.
      this.http.close(() => {});
      this.https.close(() => {});
    }
    return closed;
  }

  closeIdleConnections(): void {
    this.http.closeIdleConnections();
    this.https?.closeIdleConnections();
    for (const socket of this.undecided) socket.destroy();
  }

  closeAllConnections(): void {
    this.http.closeAllConnections();
    this.https?.closeAllConnections();
    for (const socket of this.undecided) socket.destroy();
  }

  private route(socket: Socket): void {
    this.undecided.add(socket);
    const fail = () => socket.destroy();
    socket.on("error", fail);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, fail);
    socket.once("readable", () => {
      this.undecided.delete(socket);
      socket.off("error", fail);
      socket.setTimeout(0);
      socket.off("timeout", fail);
      const first = socket.read(1) as Buffer | null;
      if (first === null) {
        socket.destroy();
        return;
      }
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        this.https!.emit("connection", socket);
      } else if (isLoopbackAddress(socket.remoteAddress)) {
        this.http.emit("connection", socket);
        // The HTTP server reads the socket's handle directly: let the byte put back flow to it.
        socket.resume();
      } else {
        refusePlainHttp(socket);
      }
    });
  }
}

function refusePlainHttp(socket: Socket): void {
  socket.on("error", () => socket.destroy());
  // Read and drop what the client sends, so that closing does not reset the connection before
  // the client has read the answer.
  socket.resume();
  socket.end(PLAIN_HTTP_REFUSED);
  socket.setTimeout(5_000, () => socket.destroy());
}
