import { constants } from "node:os";

/**
 * STOPSIGNAL's value as Docker's signal.ParseSignal reads it: a number, or a name with or
 * without "SIG" (RTMIN+n and RTMAX-n included). Returns the number, or undefined.
 */
export function parseSignal(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n > 0 && n <= 64 ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  const rt = /^RT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === "MIN" ? 34 : 64) + Number(rt[2] ?? 0);
    return n >= 34 && n <= 64 ? n : undefined;
  }
  const signals = constants.signals as Record<string, number>;
  return signals[`SIG${name}`];
}
