import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { matchRoute, type RouteMatch } from "../oci/distribution-routes.js";
import { validateRepositoryName } from "../oci/reference.js";
import type { StorageDriver } from "../storage/driver.js";
import { type AuthServices, authorize, OPEN_GRANT } from "./authorize.js";
import { GcLockedError } from "./domain-errors.js";
import { toRegistryError } from "./error-map.js";
import { RegistryError } from "./errors.js";
import { collectGarbage, type GcReport } from "./gc/collector.js";
import { deleteBlob, getBlob } from "./handlers/blobs.js";
import { listCatalog } from "./handlers/catalog.js";
import { deleteManifest, getManifest, putManifest } from "./handlers/manifests.js";
import { listReferrers } from "./handlers/referrers.js";
import { search } from "./handlers/search.js";
import { listTags } from "./handlers/tags.js";
import { serveToken } from "./handlers/token.js";
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from "./handlers/uploads.js";
import { type Context, type RegistryOptions, sendError, sendJson } from "./http.js";
import { Listener } from "./listener.js";
import type { RegistryMetadata } from "./metadata/metadata.js";
import { type DebrisReport, sweepDebris } from "./services/debris.js";
import { createServices, type RegistryServices } from "./services/registry-services.js";
import type { TlsCredentials } from "./tls-config.js";

export interface RegistryServerOptions extends RegistryOptions {
  driver: StorageDriver;
  metadata: RegistryMetadata;
  log: Logger;
  /** Uploads older than this are purged; 0 disables purging. */
  uploadMaxAgeMs: number;
  /** How often expired uploads are purged and what interrupted writes left is swept. */
  uploadPurgeIntervalMs: number;
  /** Scheduled garbage collection; interval 0 disables it. */
  gc?: { intervalMs: number; graceMs: number; deleteUntagged: boolean };
  /** How long in-flight requests may take to finish on shutdown before connections are cut. */
  shutdownTimeoutMs?: number;
  /** Authentication and access control; undefined: every request is allowed. */
  auth?: AuthServices;
  /** Serve HTTPS (and plain HTTP to loopback clients only) on the one port. */
  tls?: TlsCredentials;
}

type Handler = (ctx: Context, match: RouteMatch) => Promise<void>;

const handlers: Record<string, Partial<Record<string, Handler>>> = {
  base: { GET: async (ctx) => sendJson(ctx, 200, {}) },
  catalog: { GET: (ctx) => listCatalog(ctx) },
  search: { GET: (ctx) => search(ctx) },
  tags: { GET: (ctx, m) => listTags(ctx, m.name!) },
  manifest: {
    GET: (ctx, m) => getManifest(ctx, m.name!, m.reference!),
    PUT: (ctx, m) => putManifest(ctx, m.name!, m.reference!),
    DELETE: (ctx, m) => deleteManifest(ctx, m.name!, m.reference!),
  },
  blob: {
    GET: (ctx, m) => getBlob(ctx, m.name!, m.digest!),
    DELETE: (ctx, m) => deleteBlob(ctx, m.name!, m.digest!),
  },
  uploadStart: { POST: (ctx, m) => startUpload(ctx, m.name!) },
  upload: {
    GET: (ctx, m) => uploadStatus(ctx, m.name!, m.uuid!),
    PATCH: (ctx, m) => patchUpload(ctx, m.name!, m.uuid!),
    PUT: (ctx, m) => finishUpload(ctx, m.name!, m.uuid!),
    DELETE: (ctx, m) => cancelUpload(ctx, m.name!, m.uuid!),
  },
  referrers: { GET: (ctx, m) => listReferrers(ctx, m.name!, m.digest!) },
};

/** The registry: an HTTP server speaking the OCI distribution protocol over a storage driver. */
export class RegistryServer {
  readonly services: RegistryServices;
  private readonly server: Listener;
  private readonly log: Logger;
  private purgeTimer?: NodeJS.Timeout;
  private maintaining?: Promise<void>;
  private gcTimer?: NodeJS.Timeout;
  private gcRunning?: Promise<unknown>;
  private inFlight = 0;
  private drained?: () => void;

  constructor(private readonly options: RegistryServerOptions) {
    this.log = options.log;
    this.services = createServices(options.driver, options.metadata);
    this.server = new Listener((req, res) => void this.handle(req, res), {
      tls: options.tls,
      keepAliveTimeoutMs: 65_000,
    });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const address = await this.server.listen(host, port);
    this.purgeTimer = setInterval(() => void this.maintain(), this.options.uploadPurgeIntervalMs);
    this.purgeTimer.unref();
    void this.maintain();
    const gc = this.options.gc;
    if (gc && gc.intervalMs > 0) {
      this.gcTimer = setInterval(() => void this.scheduledGc(), gc.intervalMs);
      this.gcTimer.unref();
    }
    return address;
  }

  /** One scheduled collection; another replica's collection in progress is not an error. */
  async scheduledGc(): Promise<GcReport | undefined> {
    const gc = this.options.gc;
    if (!gc || this.gcRunning) return undefined;
    const run = collectGarbage(this.services, {
      dryRun: false,
      deleteUntagged: gc.deleteUntagged,
      graceMs: gc.graceMs,
      wait: false,
      log: this.log,
    });
    this.gcRunning = run.catch(() => {});
    try {
      return await run;
    } catch (err) {
      if (err instanceof GcLockedError)
        this.log.info({ reason: err.message }, "scheduled garbage collection skipped");
      else this.log.error({ err }, "scheduled garbage collection failed");
      return undefined;
    } finally {
      this.gcRunning = undefined;
    }
  }

  /** Purges expired uploads and sweeps debris, at start and then every uploadPurgeIntervalMs. */
  maintain(): Promise<void> {
    this.maintaining ??= (async () => {
      try {
        if (this.options.uploadMaxAgeMs > 0) await this.purgeUploads();
        await this.sweepDebris();
      } finally {
        this.maintaining = undefined;
      }
    })();
    return this.maintaining;
  }

  async sweepDebris(): Promise<DebrisReport | undefined> {
    try {
      const report = await sweepDebris(this.services);
      if (report.temporaryFiles + report.uploadFolders > 0) {
        this.log.info({ ...report }, "swept what interrupted writes left behind");
      }
      return report;
    } catch (err) {
      this.log.error({ err }, "sweeping what interrupted writes left behind failed");
      return undefined;
    }
  }

  async purgeUploads(): Promise<number> {
    try {
      const purged = await this.services.uploads.purge(this.options.uploadMaxAgeMs);
      if (purged > 0) this.log.info({ purged }, "purged expired uploads");
      return purged;
    } catch (err) {
      this.log.error({ err }, "purging expired uploads failed");
      return 0;
    }
  }

  /** Stops accepting connections and waits for in-flight requests to finish (up to the timeout). */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.gcTimer) clearInterval(this.gcTimer);
    const closed = this.server.close();
    // One turn of the event loop first: a request whose bytes have arrived but are not parsed yet
    // sits on a connection that still looks idle, and would be cut instead of answered.
    await new Promise((resolve) => setImmediate(resolve));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      const timeout = this.options.shutdownTimeoutMs ?? 30_000;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.drained = resolve;
        }),
        new Promise<void>((resolve) => setTimeout(resolve, timeout).unref()),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
    await this.gcRunning;
    await this.maintaining;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    const started = process.hrtime.bigint();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1));
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    try {
      const ctx: Context = {
        req,
        res,
        query,
        services: this.services,
        options: this.options,
        log: this.log,
        mayPull: OPEN_GRANT.mayPull,
      };
      const { auth } = this.options;
      if (path === "/token" && auth?.token) {
        await serveToken(ctx, auth);
        return;
      }
      const match = matchRoute(path);
      if (!match) throw new RegistryError("UNSUPPORTED", "no such endpoint", { path }, 404);
      const handler = handlers[match.route]?.[method];
      if (!handler) {
        throw new RegistryError(
          "UNSUPPORTED",
          `method ${req.method} not allowed on ${match.route}`,
          undefined,
          405,
        );
      }
      if (match.name !== undefined) checkName(match.name);
      if (auth) ctx.mayPull = (await authorize(auth, req, match, method)).mayPull;
      await handler(ctx, match);
    } catch (err) {
      let regErr = toRegistryError(err);
      if (regErr.status === 503) {
        // A socket error no backend translated is a gap to close: its stack shows where.
        const untranslated = (regErr.detail as { backend?: string } | undefined)?.backend === "unknown";
        this.log.warn(
          { method: req.method, path, reason: regErr.message, ...(untranslated ? { err } : {}) },
          "backend unavailable: answered 503",
        );
      } else if (regErr.status >= 500) {
        // As distribution: the cause goes to the log under an id, and the client gets only the id.
        const requestId = randomUUID();
        this.log.error({ err, requestId, method: req.method, path }, "request failed");
        regErr = new RegistryError(
          "UNKNOWN",
          `unknown error (request id ${requestId})`,
          { requestId },
          regErr.status,
        ).withHeaders({ "X-Request-Id": requestId });
      }
      sendError(res, req, regErr);
    } finally {
      if (this.log.isLevelEnabled("debug")) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        this.log.debug({ method: req.method, path, status: res.statusCode, ms }, "request");
      }
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }
}

function checkName(name: string): void {
  try {
    validateRepositoryName(name);
  } catch (err) {
    throw new RegistryError("NAME_INVALID", (err as Error).message, { name });
  }
}
