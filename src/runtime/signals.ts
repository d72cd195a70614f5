import { constants } from "node:os";
import { RuntimeUsageError } from "./errors.js";

const SIGNALS = constants.signals as Record<string, number>;

/** `-s KILL`, `SIGTERM`, `15`: a signal number, or Docker's "Invalid signal" error. */
export function parseSignal(input: string): number {
  const s = input.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = s.startsWith("SIG") ? s : `SIG${s}`;
    const n = SIGNALS[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt && Number(rt[1] ?? 0) <= 30) return 34 + Number(rt[1] ?? 0);
  }
  throw new RuntimeUsageError(`Invalid signal: ${input}`);
}
