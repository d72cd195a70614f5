import { resolve } from "node:path";
import { pino } from "pino";
import { createAuthServices } from "../registry/auth-setup.js";
import { loadConfig, parseAddr, parseDuration, validateConfig } from "../registry/config.js";
import { EmbeddedMetadata } from "../registry/metadata/embedded.js";
import { RegistryServer } from "../registry/server.js";
import { loadTlsCredentials } from "../registry/tls-config.js";
import { FilesystemDriver } from "../storage/filesystem.js";
import { Command } from "./commander.js";

interface ServeFlags {
  addr?: string;
  root?: string;
  config?: string;
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
  return registry;
}

async function serve(flags: ServeFlags): Promise<void> {
  const cfg = await loadConfig(flags.config);
  if (flags.addr) cfg.addr = flags.addr;
  if (flags.root) cfg.root = flags.root;
  if (flags.logLevel) cfg.log.level = flags.logLevel;
  validateConfig(cfg, flags.config ?? "flags");
  const log = pino({ level: cfg.log.level, base: { service: "berth-registry" } });
  const { host, port } = parseAddr(cfg.addr);
  const root = resolve(cfg.root);
  const tls = cfg.tls ? await loadTlsCredentials(cfg.tls) : undefined;
  const auth = await createAuthServices(cfg.auth, root, log);
  const driver = new FilesystemDriver(root);
  const server = new RegistryServer({
    driver,
    metadata: new EmbeddedMetadata(driver),
    log,
    deleteEnabled: cfg.delete.enabled,
    uploadMaxAgeMs: parseDuration(cfg.uploads.maxAge),
    uploadPurgeIntervalMs: Math.max(1000, parseDuration(cfg.uploads.purgeInterval)),
    auth,
    tls,
  });
  const address = await server.listen(host, port);
  const shown =
    address.family === "IPv6" ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  log.info({ addr: shown, root, delete: cfg.delete.enabled, ...(tls ? { tls: true } : {}) }, "listening");
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second signal while draining must not kill the process half-way (the default action would).
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down: finishing in-flight requests");
      void server.close().then(() => {
        log.info("stopped");
        done();
      });
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
