/**
 * Build progress as BuildKit reports it: numbered vertices (`#5 [base 3/4] RUN …`), each
 * started, then cached, done or failed, with status lines and the process's output in between.
 * The builder only emits events; the CLI renders them (plain, a TTY view, or nothing).
 */

export type BuildEvent =
  | { type: "start"; id: number; name: string; at: number }
  | { type: "status"; id: number; text: string }
  | { type: "log"; id: number; stream: "stdout" | "stderr"; data: Buffer; at: number }
  | { type: "cached"; id: number }
  | { type: "done"; id: number; at: number }
  | { type: "error"; id: number; message: string; at: number }
  | { type: "warning"; message: string };

export type BuildListener = (e: BuildEvent) => void;

export class Progress {
  private next = 1;

  constructor(private readonly listener: BuildListener = () => {}) {}

  start(name: string): Vertex {
    return new Vertex(this.next++, name, this.listener);
  }

  warn(message: string): void {
    this.listener({ type: "warning", message });
  }
}

export class Vertex {
  private finished = false;

  constructor(
    readonly id: number,
    readonly name: string,
    private readonly listener: BuildListener,
  ) {
    listener({ type: "start", id, name, at: Date.now() });
  }

  status(text: string): void {
    this.listener({ type: "status", id: this.id, text });
  }

  log(stream: "stdout" | "stderr", data: Buffer): void {
    this.listener({ type: "log", id: this.id, stream, data, at: Date.now() });
  }

  cached(): void {
    if (this.finished) return;
    this.finished = true;
    this.listener({ type: "cached", id: this.id });
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.listener({ type: "done", id: this.id, at: Date.now() });
  }

  fail(message: string): void {
    if (this.finished) return;
    this.finished = true;
    this.listener({ type: "error", id: this.id, message, at: Date.now() });
  }

  /** Runs fn as this vertex's work: done when it resolves, failed (and rethrown) when it throws. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn();
      this.done();
      return v;
    } catch (err) {
      this.fail((err as Error).message);
      throw err;
    }
  }
}
