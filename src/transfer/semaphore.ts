/** At most `size` holders at once; the rest queue in order (containerd's Dispatch limiter). */
export class Semaphore {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves to a release function; `onWait` is called when the caller has to queue. */
  async acquire(onWait?: () => void): Promise<() => void> {
    if (this.free > 0) this.free--;
    else {
      onWait?.();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}
