import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { InvalidArgumentError } from "../errors.js";

/**
 * Docker's check before it writes anything (and before it looks at what to write): the directory
 * a file goes in must exist. `doing` leads the message as docker's does ("failed to save image").
 */
export async function checkOutputPath(path: string, doing?: string): Promise<void> {
  const dir = dirname(path);
  const lead = doing ? `${doing}: invalid output path` : "invalid output path";
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error)
    throw new InvalidArgumentError(`${lead}: stat ${dir}: no such file or directory`);
  if (!info.isDirectory()) throw new InvalidArgumentError(`${lead}: ${dir} is not a directory`);
}

/**
 * Writes an `-o` file as the docker CLI does (its CopyToFile): into a temporary file beside it,
 * created with mode 0600 as Go's os.CreateTemp makes it, renamed over `path` once complete, and
 * removed if anything fails, so a failed or killed command leaves no partial file under the name.
 * `write` writes everything to the stream and ends it.
 */
export async function writeOutputFile(path: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.berth-tmp-${randomBytes(6).toString("hex")}`);
  const handle = await open(tmp, "wx", 0o600);
  const out = handle.createWriteStream();
  try {
    await write(out);
    await finished(out);
    await rename(tmp, path);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}
