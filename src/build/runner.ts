import { Writable } from "node:stream";
import { CommandStartError } from "../runtime/errors.js";

/**
 * What a RUN step needs from the runtime: one process in a throwaway container over the stage's
 * layers, its changes kept in `upperDir`, its output streamed, its exit status returned.
 */
export interface StepProcess {
  /** Unpacked layer directories, bottom first (the image's order). */
  lowerDirs: string[];
  /** An empty directory: receives every change, and becomes the step's layer. */
  upperDir: string;
  /** Scratch space on the same filesystem as upperDir, removed afterwards. */
  scratchDir: string;
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  network: "none" | "host" | "default";
  output(stream: "stdout" | "stderr", chunk: Buffer): void;
}

/** Resolves to the process's exit status. */
export type StepRunner = (p: StepProcess) => Promise<number>;

/** RUN through the runtime module (runc): a process that cannot start exits 126 or 127, as in a shell. */
export const runInContainer: StepRunner = async (p) => {
  const sink = (stream: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        p.output(stream, chunk);
        cb();
      },
    });
  // Loaded on the first RUN that is not cached: a fully cached build never needs the runtime.
  const { runEphemeral } = await import("../runtime/ephemeral.js");
  try {
    const result = await runEphemeral({
      lowerDirs: [...p.lowerDirs].reverse(),
      upperDir: p.upperDir,
      scratchDir: p.scratchDir,
      args: p.args,
      env: p.env,
      user: p.user,
      workdir: p.workdir,
      network: p.network,
      stdout: sink("stdout"),
      stderr: sink("stderr"),
    });
    return result.exitCode;
  } catch (err) {
    if (err instanceof CommandStartError) {
      p.output("stderr", Buffer.from(`${err.message}\n`));
      return err.exitCode;
    }
    throw err;
  }
};
