import { pino } from "pino";
import { createAuthServices } from "../registry/auth-setup.js";
import { openBackend } from "../registry/backend.js";
import {
  loadConfig,
  parseAddr,
  parseDuration,
  type RegistryConfig,
  validateConfig,
} from "../registry/config.js";
import { collectGarbage } from "../registry/gc/collector.js";
import { RegistryServer } from "../registry/server.js";
import { sweepDebris } from "../registry/services/debris.js";
import { createServices } from "../registry/services/registry-services.js";
import { loadTlsCredentials } from "../registry/tls-config.js";
import { Command } from "./commander.js";
import { humanSize } from "./format/units.js";

interface ServeFlags {
  addr?: string;
  root?: string;
  config?: string;
  logLevel?: string;
}

interface GcFlags {
  root?: string;
  config?: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  grace?: string;
  wait?: boolean;
  logLevel?: string;
}

export function registryCommand(): Command {
  const registry = new Command("registry").description("Run Berth's registry server");
  registry
    .command("serve")
    .description("Serve the OCI distribution API")
    .option("--addr <host:port>", "address to listen on (default 127.0.0.1:5000; port 0 picks a free port)")
    .option("--root <dir>", "directory that holds the registry's data (default ./data)")
    .option("--config <file>", "YAML or JSON config file; flags override it")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent")
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
  registry
    .command("gc")
    .description("Delete blobs and manifests nothing references, while the registry keeps serving")
    .option("--config <file>", "the registry's config file (storage, metadata, gc settings)")
    .option("--root <dir>", "the registry's data directory (filesystem setup; default from the config)")
    .option("--dry-run", "report what would be deleted, delete nothing")
    .option("--delete-untagged", "also delete manifests no tag reaches (default: gc.deleteUntagged)")
    .option("--grace <duration>", "keep what was used more recently than this (default: gc.grace, 1h)")
    .option("--wait", "wait for a collection already running instead of exiting")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent (default warn)")
    .action(async (flags: GcFlags) => {
      await gc(flags);
    });
  return registry;
}

async function configFrom(flags: {
  config?: string;
  root?: string;
  logLevel?: string;
}): Promise<RegistryConfig> {
  const cfg = await loadConfig(flags.config);
  if (flags.root) cfg.root = flags.root;
  if (flags.logLevel) cfg.log.level = flags.logLevel;
  return cfg;
}

async function gc(flags: GcFlags): Promise<void> {
  const cfg = await configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" });
  const graceMs = parseDuration(flags.grace ?? cfg.gc.grace);
  validateConfig(cfg, flags.config ?? "flags");
  // Logs go to stderr: stdout is the report.
  const log = pino({ level: cfg.log.level, base: { service: "berth-registry-gc" } }, pino.destination(2));
  const backend = await openBackend(cfg, log);
  try {
    const services = createServices(backend.driver, backend.metadata);
    const report = await collectGarbage(services, {
      dryRun: flags.dryRun === true,
      deleteUntagged: flags.deleteUntagged ?? cfg.gc.deleteUntagged,
      graceMs,
      wait: flags.wait === true,
      log,
    });
    const verb = report.dryRun ? "would delete" : "deleted";
    let out =
      `${report.repositories} repositories, ${report.marked} blobs in use\n` +
      `${verb} ${report.manifests} manifests, ${report.links} repository links and ${report.blobs} blobs: ` +
      `${humanSize(report.bytes, 3)} ${report.dryRun ? "to free" : "freed"} (${report.bytes} bytes)\n` +
      `${plural(report.pendingUploads, "upload session")} older than the grace period ` +
      `(${flags.grace ?? cfg.gc.grace}) still open: abandoned sessions are purged after uploads.maxAge ` +
      `(${cfg.uploads.maxAge})\n`;
    if (!report.dryRun) {
      const debris = await sweepDebris(services);
      out +=
        `removed ${plural(debris.temporaryFiles, "temporary file")} and ` +
        `${plural(debris.uploadFolders, "upload folder")} without a session left by interrupted writes\n`;
    }
    process.stdout.write(out);
  } finally {
    await backend.close();
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

async function serve(flags: ServeFlags): Promise<void> {
  const cfg = await configFrom(flags);
  if (flags.addr) cfg.addr = flags.addr;
  validateConfig(cfg, flags.config ?? "flags");
  const log = pino({ level: cfg.log.level, base: { service: "berth-registry" } });
  const { host, port } = parseAddr(cfg.addr);
  const tls = cfg.tls ? await loadTlsCredentials(cfg.tls) : undefined;
  const backend = await openBackend(cfg, log);
  const auth = await createAuthServices(cfg.auth, backend.root, log, backend.sharedSetting);
  const server = new RegistryServer({
    driver: backend.driver,
    metadata: backend.metadata,
    log,
    deleteEnabled: cfg.delete.enabled,
    ...(backend.blobRedirect ? { blobRedirect: backend.blobRedirect } : {}),
    uploadMaxAgeMs: parseDuration(cfg.uploads.maxAge),
    uploadPurgeIntervalMs: Math.max(1000, parseDuration(cfg.uploads.purgeInterval)),
    gc: {
      intervalMs: parseDuration(cfg.gc.interval),
      graceMs: parseDuration(cfg.gc.grace),
      deleteUntagged: cfg.gc.deleteUntagged,
    },
    auth,
    tls,
  });
  const address = await server.listen(host, port);
  const shown =
    address.family === "IPv6" ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  log.info(
    { addr: shown, root: backend.root, delete: cfg.delete.enabled, ...(tls ? { tls: true } : {}) },
    "listening",
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second signal while draining must not kill the process half-way (the default action would).
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down: finishing in-flight requests");
      void server
        .close()
        .then(() => backend.close())
        .then(() => {
          log.info("stopped");
          done();
        });
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
