import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import bcrypt from "bcryptjs";
import { AuthFileError } from "./errors.js";

// What `htpasswd -B` writes ($2y$) and what other bcrypt tools write ($2a$, $2b$).
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * A bcrypt htpasswd file. Only bcrypt is accepted: the other htpasswd formats (MD5-crypt, SHA-1,
 * crypt, plain) are weak, and distribution refuses them too.
 */
export class Htpasswd {
  private constructor(
    private readonly users: Map<string, string>,
    /** Compared against when the user is unknown, so that timing does not tell whether it exists. */
    private readonly dummyHash: string,
  ) {}

  static async load(file: string): Promise<Htpasswd> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new AuthFileError(`cannot read htpasswd file ${file}: ${(err as Error).message}`);
    }
    return Htpasswd.parse(text, file);
  }

  static async parse(text: string, source = "htpasswd"): Promise<Htpasswd> {
    const users = new Map<string, string>();
    let cost = 0;
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const where = `${source} line ${i + 1}`;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new AuthFileError(`${where}: expected USER:HASH`);
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1);
      const m = BCRYPT.exec(hash);
      if (!m) {
        throw new AuthFileError(
          `${where}: the password of "${user}" is not a bcrypt hash (${describeHash(hash)}); ` +
            "only bcrypt is supported: create entries with `htpasswd -B`",
        );
      }
      if (users.has(user)) throw new AuthFileError(`${where}: user "${user}" is listed twice`);
      users.set(user, hash);
      cost = Math.max(cost, Number(m[1]));
    });
    const dummy = await bcrypt.hash(randomBytes(16).toString("hex"), cost || 10);
    return new Htpasswd(users, dummy);
  }

  get size(): number {
    return this.users.size;
  }

  /** Whether the password is the user's. Unknown users cost one bcrypt comparison as well. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    const ok = await bcrypt.compare(password, hash ?? this.dummyHash);
    return ok && hash !== undefined;
  }
}

function describeHash(hash: string): string {
  if (hash.startsWith("$apr1$")) return "MD5-crypt, $apr1$";
  if (hash.startsWith("{SHA}")) return "SHA-1, {SHA}";
  if (/^\$[0-9a-z]+\$/.test(hash)) return `crypt scheme ${hash.slice(0, hash.indexOf("$", 1) + 1)}`;
  if (hash.startsWith("$2")) return "a malformed bcrypt hash";
  return "crypt or plain text";
}
