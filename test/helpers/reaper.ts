// The watchdog of one test file's process (started by processes.ts with the first thing it
// registers): it holds the read end of a pipe from that process and, when the pipe closes — the
// process is gone, however it went, SIGKILL included — tears down what the registry file still
// lists. Run as: node reaper.js REGISTRY_FILE. It is in a session of its own, so the signals that
// end the test file do not reach it.
import { readFileSync, rmSync } from "node:fs";
import { type Entry, teardownSync } from "./teardown.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: reaper.js REGISTRY_FILE\n");
  process.exit(2);
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  let entries: [number, Entry][] = [];
  try {
    entries = JSON.parse(readFileSync(file!, "utf8")) as [number, Entry][];
  } catch {
    // Never written, or already removed by a clean exit: nothing is left.
  }
  teardownSync(entries);
  rmSync(file!, { force: true });
  rmSync(`${file}.tmp`, { force: true });
  process.exit(0);
}

process.stdin.on("error", finish);
process.stdin.on("close", finish);
process.stdin.on("end", finish);
process.stdin.resume();
