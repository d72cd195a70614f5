import type { Containers } from "./containers.js";
import { NoSuchContainerError } from "./errors.js";
import { withContainerLock } from "./lock.js";
import { type Observed, observe } from "./observe.js";
import type { ContainerPaths } from "./paths.js";
import type { ContainerRecord } from "./records.js";
import { removeContainer } from "./remove.js";
import { startSandbox } from "./sandbox.js";

export interface StartHooks {
  /** Called once the process exists and before it runs: attach to its output here. */
  beforeRun?: (rec: ContainerRecord, paths: ContainerPaths) => Promise<void> | void;
  /**
   * The caller follows the container to its exit and then cleans up itself (foreground.ts):
   * conmon's exit command runs the cleanup command only if the caller is gone by then.
   * Otherwise (detached) conmon always runs it.
   */
  attached?: boolean;
}

/**
 * `start`: a created or stopped container through the sandbox lifecycle, its record saying
 * running before its process runs (a fast exit is then seen by whoever cleans up). A running
 * container is left as it is. When the start fails, a container with --rm is removed, as Docker's
 * daemon does.
 */
export async function startContainer(
  c: Containers,
  input: string,
  hooks: StartHooks = {},
): Promise<ContainerRecord> {
  const rec = c.find(input);
  let attempted = false;
  try {
    return await withContainerLock(c.db, rec.id, async () => {
      const current = c.db.get(rec.id);
      if (!current) throw new NoSuchContainerError(input);
      const seen = observe(current, c.paths(current.id));
      if (seen.state === "running") return current;
      if (seen.stale) await settle(c, current, seen);
      attempted = true;
      return startLocked(c, c.db.get(rec.id)!, hooks);
    });
  } catch (err) {
    if (attempted && rec.settings.autoRemove)
      await removeContainer(c, rec.id, { force: true, volumes: true }).catch(() => {});
    throw err;
  }
}

/** Records the end of a container whose record still says running, and frees what it held. */
export async function settle(c: Containers, rec: ContainerRecord, seen: Observed): Promise<void> {
  await c.releaseResources(rec);
  c.db.write(() =>
    c.db.update(rec.id, {
      state: "exited",
      exitCode: seen.exitCode,
      finishedAt: seen.finishedAt,
      error: seen.error,
      pid: null,
      conmonPid: null,
      slirpPid: null,
    }),
  );
}

/** Starts a container whose lock the caller holds (start, and a restart policy's restart). */
export async function startLocked(
  c: Containers,
  rec: ContainerRecord,
  hooks: StartHooks,
): Promise<ContainerRecord> {
  const paths = c.paths(rec.id);
  let running: ContainerRecord | undefined;
  try {
    await startSandbox(
      c.runtime,
      {
        id: rec.id,
        paths,
        lowers: c.lowerDirs(rec),
        settings: rec.settings,
        output: { log: paths.log },
        initBinary: c.opts.initBinary,
        exitCommand: c.opts.cleanupCommand?.(rec.id),
        attached: hooks.attached,
      },
      async (p) => {
        const update = {
          state: "running" as const,
          pid: p.init.pid,
          pidStart: p.init.start,
          conmonPid: p.monitor?.pid ?? null,
          conmonStart: p.monitor?.start ?? null,
          slirpPid: p.slirp?.pid ?? null,
          slirpStart: p.slirp?.start ?? null,
          exitCode: 0,
          error: "",
          startedAt: new Date().toISOString(),
          // FinishedAt keeps the end of the previous run while this one lasts, as Docker's does.
          stoppedByUser: false,
          settings: { ...rec.settings, ports: p.ports },
        };
        // Recorded before the process runs, so a fast exit is seen by whoever cleans up.
        c.db.write(() => c.db.update(rec.id, update));
        running = { ...rec, ...update };
        if (p.handoff) c.handoffs.set(rec.id, p.handoff);
        await hooks.beforeRun?.(running, paths);
      },
    );
    return running!;
  } catch (err) {
    c.handoffs.delete(rec.id);
    const code = (err as { exitCode?: number }).exitCode;
    c.db.write(() =>
      c.db.update(rec.id, {
        state: rec.startedAt ? "exited" : "created",
        pid: null,
        conmonPid: null,
        slirpPid: null,
        exitCode: code === 126 || code === 127 ? code : 128,
        error: (err as Error).message,
      }),
    );
    throw err;
  }
}
