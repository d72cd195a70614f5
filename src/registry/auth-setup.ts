import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { AccessPolicy } from "../auth/access.js";
import { AuthFileError } from "../auth/errors.js";
import { Htpasswd } from "../auth/htpasswd.js";
import { ensureGeneratedKey, loadSigningKey } from "../auth/keys.js";
import { FailedLoginLimiter } from "../auth/rate-limit.js";
import type { AuthConfig } from "./auth-config.js";
import type { AuthServices } from "./authorize.js";
import { ConfigError, parseDuration } from "./config.js";

/**
 * Loads what the `auth` config names (htpasswd file, signing key) into the services the server
 * uses; undefined when auth is off. Without a configured token key, one is generated once under
 * ROOT/auth/ with a self-signed certificate that other registries can be given to trust it.
 */
export async function createAuthServices(
  cfg: AuthConfig,
  root: string,
  log: Logger,
  /** Replicas over shared metadata keep one generated key there, so tokens verify on every one. */
  shared?: (name: string, create: () => Promise<string>) => Promise<string>,
): Promise<AuthServices | undefined> {
  if (cfg.type === "none") return undefined;
  try {
    const services: AuthServices = {
      type: cfg.type,
      policy: new AccessPolicy({ groups: cfg.groups, rules: cfg.access }),
      realm: cfg.realm,
      limiter: new FailedLoginLimiter(cfg.rateLimit.failures, parseDuration(cfg.rateLimit.window)),
    };
    if (cfg.htpasswd !== undefined) services.htpasswd = await Htpasswd.load(cfg.htpasswd);
    if (cfg.type === "token") {
      let { key: keyFile, certificate: certFile } = cfg.token;
      if (keyFile === undefined) {
        const generated = shared
          ? await sharedGeneratedKey(join(root, "auth"), shared)
          : await ensureGeneratedKey(join(root, "auth"));
        keyFile = generated.keyFile;
        certFile = generated.certFile;
        log.info(
          { certificate: certFile, created: generated.created },
          "token signing key generated under the root: give this certificate to registries that should trust Berth's tokens",
        );
      }
      const key = await loadSigningKey(keyFile, certFile);
      services.token = {
        key,
        realm: cfg.token.realm,
        service: cfg.token.service,
        issuer: cfg.token.issuer,
        audiences: cfg.token.audiences,
        expiresIn: Math.round(parseDuration(cfg.token.expiration) / 1000),
      };
      log.info({ alg: key.alg, kid: key.kid, service: cfg.token.service }, "token service ready");
    }
    log.info({ auth: cfg.type, users: services.htpasswd?.size ?? 0 }, "authentication enabled");
    return services;
  } catch (err) {
    if (err instanceof AuthFileError) throw new ConfigError(err.message);
    throw err;
  }
}

/** The key and certificate the first replica generated, written into this replica's directory. */
async function sharedGeneratedKey(
  dir: string,
  shared: (name: string, create: () => Promise<string>) => Promise<string>,
): Promise<{ keyFile: string; certFile: string; created: boolean }> {
  let created = false;
  const value = await shared("auth.token.generated-key", async () => {
    const candidate = await ensureGeneratedKey(join(dir, "candidate"));
    created = true;
    return JSON.stringify({
      key: await readFile(candidate.keyFile, "utf8"),
      certificate: await readFile(candidate.certFile, "utf8"),
    });
  });
  const { key, certificate } = JSON.parse(value) as { key: string; certificate: string };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  await writeFile(keyFile, key, { mode: 0o600 });
  await writeFile(certFile, certificate);
  await rm(join(dir, "candidate"), { recursive: true, force: true });
  return { keyFile, certFile, created };
}
