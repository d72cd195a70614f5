import { execFile } from "node:child_process";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from "node:crypto";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { AuthFileError } from "./errors.js";

export type SigningAlgorithm = "ES256" | "RS256";

/** The token service's signing key, as tokens and the registries that verify them need it. */
export interface SigningKey {
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** libtrust's key ID: what distribution looks the key up by in its rootcertbundle. */
  kid: string;
  /** The certificate chain for the JWT `x5c` header (base64 DER), when a certificate is configured. */
  x5c?: string[];
}

/** Loads a PEM private key (EC P-256 or RSA) and, optionally, the X.509 certificate of its public key. */
export async function loadSigningKey(keyFile: string, certFile?: string): Promise<SigningKey> {
  const privateKey = createPrivateKey(await readOrThrow(keyFile, "token key"));
  const alg = algorithmOf(privateKey, keyFile);
  const publicKey = createPublicKey(privateKey);
  const key: SigningKey = { alg, privateKey, publicKey, kid: libtrustKeyId(publicKey) };
  if (certFile !== undefined) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(await readOrThrow(certFile, "token certificate"));
    } catch (err) {
      if (err instanceof AuthFileError) throw err;
      throw new AuthFileError(`${certFile}: not a PEM X.509 certificate: ${(err as Error).message}`);
    }
    if (!cert.checkPrivateKey(privateKey)) {
      throw new AuthFileError(`${certFile} is not the certificate of the key in ${keyFile}`);
    }
    key.x5c = [cert.raw.toString("base64")];
  }
  return key;
}

function algorithmOf(key: KeyObject, file: string): SigningAlgorithm {
  if (key.asymmetricKeyType === "ec") {
    if (key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new AuthFileError(`${file}: only the P-256 curve is supported for EC keys (ES256)`);
    }
    return "ES256";
  }
  if (key.asymmetricKeyType === "rsa") return "RS256";
  throw new AuthFileError(`${file}: a ${key.asymmetricKeyType} key cannot sign tokens; use EC P-256 or RSA`);
}

async function readOrThrow(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new AuthFileError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * libtrust's key ID, which distribution 2.8 matches a token's `kid` against: the SHA-256 of the
 * DER SubjectPublicKeyInfo, its first 240 bits in unpadded base32, in groups of four joined by ":".
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  const encoded = base32(createHash("sha256").update(der).digest().subarray(0, 30));
  return encoded.match(/.{1,4}/g)!.join(":");
}

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding. */
function base32(data: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

const run = promisify(execFile);

/**
 * The key and self-signed certificate used when none is configured: made once in `dir` and kept,
 * so that registries given the certificate keep trusting tokens across restarts.
 */
export async function ensureGeneratedKey(
  dir: string,
): Promise<{ keyFile: string; certFile: string; created: boolean }> {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  if ((await exists(keyFile)) && (await exists(certFile))) return { keyFile, certFile, created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" });
  await writeFile(`${keyFile}.tmp`, pem, { mode: 0o600 });
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-new",
      "-sha256",
      "-key",
      `${keyFile}.tmp`,
      "-subj",
      "/CN=berth token signer",
      "-days",
      "3650",
      "-out",
      `${certFile}.tmp`,
    ]);
  } catch (err) {
    throw new AuthFileError(`cannot create the token certificate with openssl: ${(err as Error).message}`);
  }
  await rename(`${certFile}.tmp`, certFile);
  await rename(`${keyFile}.tmp`, keyFile);
  return { keyFile, certFile, created: true };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
