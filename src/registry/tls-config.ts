import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { BerthError } from "../errors.js";

/** The registry config's `tls` section: PEM files for the certificate (chain) and its private key. */
export interface TlsConfig {
  certificate: string;
  key: string;
}

/** What the listener needs: the PEM bytes, checked to belong together. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
}

export class TlsConfigError extends BerthError {
  override readonly name = "TlsConfigError";
}

/** Parses the `tls` section; absent means plain HTTP only. */
export function parseTlsSection(raw: unknown, source = "config"): TlsConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new TlsConfigError(`${source}: tls must be a mapping with certificate and key`);
  }
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== "certificate" && key !== "key")
      throw new TlsConfigError(`${source}: unknown key "tls.${key}"`);
  }
  for (const key of ["certificate", "key"] as const) {
    if (typeof r[key] !== "string" || r[key] === "") {
      throw new TlsConfigError(`${source}: tls.${key} must name a PEM file`);
    }
  }
  return { certificate: r.certificate as string, key: r.key as string };
}

/**
 * Reads the PEM files and checks them at startup, so that a wrong path, a file that is not PEM or
 * a key of another certificate stops the server with a message naming the file, instead of every
 * TLS handshake failing later.
 */
export async function loadTlsCredentials(cfg: TlsConfig): Promise<TlsCredentials> {
  const cert = await readPem(cfg.certificate, "tls.certificate");
  const key = await readPem(cfg.key, "tls.key");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(
      `tls.certificate ${cfg.certificate} holds no PEM certificate: ${(err as Error).message}`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsConfigError(
      `tls.key ${cfg.key} holds no unencrypted PEM private key: ${(err as Error).message}`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(
      `tls.key ${cfg.key} is not the private key of the certificate in ${cfg.certificate}`,
    );
  }
  return { cert, key };
}

async function readPem(file: string, key: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TlsConfigError(`cannot read ${key} ${file}: ${(err as Error).message}`);
  }
}
