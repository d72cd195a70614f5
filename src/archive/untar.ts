import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { cleanName } from "../layer/unpack.js";
import { ArchiveError } from "./errors.js";

/**
 * Unpacks an archive's regular files into an empty directory, names checked as layer entries
 * are (nothing lands outside it). Links, devices and the like have no place in an image archive
 * and are skipped.
 */
export async function untar(source: Readable, dir: string): Promise<void> {
  const tar = extract();
  let entries = 0;
  tar.on("entry", (header, body, next) => {
    entries++;
    (async () => {
      const name = cleanName(header.name);
      if (name === "" || (header.type !== "file" && header.type !== "contiguous-file")) {
        body.resume();
        return;
      }
      const full = join(dir, name);
      await mkdir(join(full, ".."), { recursive: true });
      const fh = await open(full, "wx", 0o600);
      try {
        await pipeline(
          body,
          new Writable({
            write(chunk: Buffer, _enc, cb) {
              fh.write(chunk).then(() => cb(), cb);
            },
          }),
        );
      } finally {
        await fh.close();
      }
    })().then(
      () => next(),
      (err: unknown) => next(err as Error),
    );
  });
  try {
    await pipeline(source, tar);
  } catch (err) {
    if ((err as { code?: string }).code === "UNSAFE_LAYER") {
      throw new ArchiveError(`archive member escapes the archive: ${(err as Error).message}`);
    }
    if ((err as { code?: string }).code === "EEXIST") {
      throw new ArchiveError(`the archive holds the same member twice: ${(err as Error).message}`);
    }
    throw new ArchiveError(`not a valid tar archive: ${(err as Error).message}`);
  }
  if (entries === 0) throw new ArchiveError("not a tar archive, or an empty one");
}
