import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { tempDir } from "../helpers/processes.js";

export const PASSWORDS: Record<string, string> = {
  alice: "alice-Pw-1",
  bob: "bob-Pw-2",
  carol: "carol-Pw-3",
  dave: "dave-Pw-4",
};

/** An htpasswd file as `htpasswd -B` writes it ($2y$, cost 5) for the users above. */
export async function writeHtpasswd(): Promise<string> {
  const lines = Object.entries(PASSWORDS).map(
    ([user, pw]) => `${user}:${bcrypt.hashSync(pw, 5).replace(/^\$2b\$/, "$2y$")}`,
  );
  const file = join(await tempDir("berth-htpasswd-"), "htpasswd");
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

/**
 * The policy both auth test files use: alice pushes to team/** and owns public/**, the dev group
 * (bob) pulls team/**, dave has only dave/**, carol has nothing, and anyone may pull public/**.
 */
export const ACCESS = {
  groups: { dev: ["bob"] },
  access: [
    { repositories: ["team/**"], users: ["alice"], actions: ["pull", "push"] },
    { repositories: ["team/**"], groups: ["dev"], actions: ["pull"] },
    { repositories: ["public/**"], users: ["alice"], actions: ["*"] },
    { repositories: ["dave/*"], users: ["dave"], actions: ["pull", "push"] },
    { repositories: ["public/**"], anonymous: true, actions: ["pull"] },
  ],
};

export function basic(user: string, password = PASSWORDS[user]!): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}
