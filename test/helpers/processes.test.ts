import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { alive, leftovers } from "../runtime/helpers.js";
import { run, type Started, start, tempDir, waitFor } from "./processes.js";

// Each case runs test/helpers/leaky-file.ts under a `node --test` of its own, ends it one way, and
// then looks for anything it started: processes (a server, a shell's background job, a daemon in
// its own session, a child spawned without the helpers, a container with its conmon), mounts,
// cgroups, directories.
const LEAKY = fileURLToPath(new URL("./leaky-file.js", import.meta.url));

interface Report {
  pids: Map<string, number>;
  paths: Map<string, string>;
  ready: boolean;
}

function readReport(file: string): Report {
  const report: Report = { pids: new Map(), paths: new Map(), ready: false };
  if (!existsSync(file)) return report;
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const e = JSON.parse(line) as { name: string; pid?: number; path?: string };
    if (e.name === "ready") report.ready = true;
    if (e.pid !== undefined) report.pids.set(e.name, e.pid);
    if (e.path !== undefined) report.paths.set(e.name, e.path);
  }
  return report;
}

/** Starts the leaky file under a test runner of its own; `runnerArgs` go before the file. */
async function leakyRun(
  mode: string,
  opts: { container?: boolean; runnerArgs?: string[]; reaper?: boolean } = {},
): Promise<{ runner: Started; report: () => Report }> {
  const file = join(await tempDir("berth-leaky-report-"), "report.jsonl");
  // In a session of its own (setsid -w waits and passes the exit status on): when the runner
  // exits, the file's process must be left to finish its teardown, not killed with our group.
  const runner = start(
    "setsid",
    ["-w", process.execPath, "--test", "--test-reporter=tap", ...(opts.runnerArgs ?? []), LEAKY],
    {
      env: {
        LEAKY_MODE: mode,
        LEAKY_REPORT: file,
        LEAKY_CONTAINER: opts.container ? "1" : "0",
        // Only where the file's process cannot act itself does the watchdog get to.
        BERTH_TEST_REAPER: opts.reaper ? "1" : "0",
      },
    },
  );
  return { runner, report: () => readReport(file) };
}

/** The `node --test` running the file: the file's parent. */
function runnerPid(report: Report): number {
  const stat = readFileSync(`/proc/${report.pids.get("file")}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** The runner's exit code; a file that never ends is a failure here, not a hang. */
async function exitCode(runner: Started): Promise<number | null> {
  await waitFor(
    "the leaky file's runner to exit",
    () => runner.proc.exitCode !== null || runner.proc.signalCode !== null,
    240_000,
  );
  return runner.exited;
}

/** Waits until everything the report names is gone, and says what is not. */
async function assertNothingLeft(report: Report, expectStray = true): Promise<void> {
  assert.ok(report.ready, "the leaky file started everything");
  const expected = ["file", "registry", "shell", "shell's job", "daemon", "stray child"];
  for (const name of expected) assert.ok(report.pids.has(name), `the report names ${name}`);
  const pids = [...report.pids].filter(([name]) => expectStray || name !== "stray child");
  const living = () => pids.filter(([, pid]) => alive(pid)).map(([name, pid]) => `${name} (${pid})`);
  await waitFor("everything to be stopped", () => living().length === 0, 120_000).catch(() => {});
  assert.deepEqual(living(), [], "still running");
  for (const [name, path] of report.paths) {
    if (name === "container id") continue;
    assert.ok(!existsSync(path), `${name} ${path} is removed`);
  }
  const id = report.paths.get("container id");
  if (id) {
    const store = report.paths.get("store")!;
    const gone = () => leftovers(store, id, [report.pids.get("container")!, report.pids.get("conmon")!]);
    await waitFor("the container to be removed", () => gone().length === 0, 60_000).catch(() => {});
    assert.deepEqual(gone(), [], "the container left nothing");
  }
}

describe("processes.ts: a test file leaves nothing running, however it ends", { timeout: 600_000 }, () => {
  test("the runner's --test-timeout ends it (SIGTERM to the file's process)", async () => {
    const { runner, report } = await leakyRun("hang", {
      container: true,
      runnerArgs: ["--test-timeout=25000"],
    });
    assert.equal(await exitCode(runner), 1);
    assert.match(runner.logs(), /test timed out after 25000ms/);
    await assertNothingLeft(report());
  });

  test("the file's process is SIGKILLed: the watchdog tears down, containers included", async () => {
    const { runner, report } = await leakyRun("hang", { container: true, reaper: true });
    await waitFor(
      "the leaky file to start everything",
      () => report().ready || runner.proc.exitCode !== null,
      300_000,
    );
    process.kill(report().pids.get("file")!, "SIGKILL");
    assert.equal(await exitCode(runner), 1);
    // A child spawned without the helpers has no group of ours and is now init's: out of reach.
    await assertNothingLeft(report(), false);
    const stray = report().pids.get("stray child")!;
    if (alive(stray)) process.kill(stray, "SIGKILL");
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`the runner is sent ${signal} (as by Ctrl-C or a CI cancel)`, async () => {
      const { runner, report } = await leakyRun("hang");
      await waitFor(
        "the leaky file to start everything",
        () => report().ready || runner.proc.exitCode !== null,
        300_000,
      );
      process.kill(runnerPid(report()), signal);
      await exitCode(runner);
      await assertNothingLeft(report());
    });
  }

  test("a test fails with an uncaught error and stops nothing", async () => {
    const { runner, report } = await leakyRun("throw");
    assert.equal(await exitCode(runner), 1);
    assert.match(runner.logs(), /the test fails/);
    await assertNothingLeft(report());
  });

  test("a before hook fails and the file's tests are cancelled", async () => {
    const { runner, report } = await leakyRun("cancel");
    assert.equal(await exitCode(runner), 1);
    assert.match(runner.logs(), /the before hook fails/);
    await assertNothingLeft(report());
  });
});

test("a command's process group goes with it; run() does not wait for its background job", async () => {
  const r = await run("sh", ["-c", "sleep 1000 & echo $!"]);
  assert.equal(r.code, 0);
  const job = Number(r.stdout.trim());
  await waitFor("the background job to be killed", () => !alive(job));
});
