import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BerthError } from "../errors.js";

/** Extra TLS settings for one registry: CAs to trust besides the system's, and a client certificate. */
export interface TlsTrust {
  ca: Buffer[];
  cert?: Buffer;
  key?: Buffer;
}

export class CertsDirError extends BerthError {
  override readonly name = "CertsDirError";
}

/**
 * Docker's certs.d convention: in DIR/HOST:PORT/, every `*.crt` is a CA to trust for that
 * registry, and `NAME.cert` with `NAME.key` is a client certificate. All the given directories
 * are read (Berth's own first, then /etc/docker/certs.d); undefined when none has anything.
 */
export function loadCertsDirs(registry: string, dirs: string[]): TlsTrust | undefined {
  const trust: TlsTrust = { ca: [] };
  for (const dir of dirs) {
    const hostDir = join(dir, registry);
    let files: string[];
    try {
      files = readdirSync(hostDir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new CertsDirError(`cannot read ${hostDir}: ${(err as Error).message}`);
    }
    for (const file of files) {
      if (file.endsWith(".crt")) trust.ca.push(read(join(hostDir, file)));
      if (file.endsWith(".cert") && trust.cert === undefined) {
        const keyFile = `${file.slice(0, -".cert".length)}.key`;
        if (!files.includes(keyFile)) {
          throw new CertsDirError(`${join(hostDir, file)} has no key: expected ${join(hostDir, keyFile)}`);
        }
        trust.cert = read(join(hostDir, file));
        trust.key = read(join(hostDir, keyFile));
      }
    }
  }
  return trust.ca.length > 0 || trust.cert ? trust : undefined;
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CertsDirError(`cannot read ${file}: ${(err as Error).message}`);
  }
}
