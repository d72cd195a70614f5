import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INIT_PATH } from "./defaults.js";

/**
 * The layer between the image and the container's own (Docker's "-init" layer): the mount
 * points the runtime needs, so that creating them never writes to the container's layer (or to
 * a build step's) — `diff` and `commit` then show only what the process changed.
 */
export function makeInitLayer(dir: string, opts: { init?: boolean } = {}): void {
  for (const d of ["dev/pts", "dev/shm", "dev/mqueue", "proc", "sys", "etc"])
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  for (const f of ["etc/hosts", "etc/hostname", "etc/resolv.conf"])
    writeFileSync(join(dir, f), "", { mode: 0o644 });
  if (opts.init) {
    mkdirSync(join(dir, "sbin"), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, INIT_PATH), "", { mode: 0o755 });
  }
}
