import { createRequire } from "node:module";
import { RuntimeError } from "./errors.js";

type SeqpacketSocket = import("node-unix-socket").SeqpacketSocket;

export interface AttachSession {
  onOutput(fn: (stream: "stdout" | "stderr", data: Buffer) => void): void;
  write(data: Buffer): void;
  /** Closes our side of stdin: conmon then closes the container's (a `run -i` without --detach). */
  end(): void;
  /** Resolves once conmon has closed the connection (after the container's last output). */
  drained(): Promise<void>;
  close(): void;
}

/**
 * conmon's attach socket: SOCK_SEQPACKET (Node's net module has only stream sockets, hence the
 * node-unix-socket addon, loaded only here). Each message from conmon starts with one byte naming
 * the stream (2 stdout, 3 stderr); what we send is the container's stdin.
 */
export async function openAttach(path: string): Promise<AttachSession> {
  const { SeqpacketSocket } = createRequire(import.meta.url)(
    "node-unix-socket",
  ) as typeof import("node-unix-socket");
  const sock: SeqpacketSocket = new SeqpacketSocket();
  const pending: { stream: "stdout" | "stderr"; data: Buffer }[] = [];
  let handler: ((stream: "stdout" | "stderr", data: Buffer) => void) | undefined;
  let closed = false;
  let onClosed: (() => void) | undefined;
  const closedPromise = new Promise<void>((resolve) => {
    onClosed = resolve;
  });
  sock.on("data", (buf: Buffer) => {
    if (buf.length < 1) return;
    const stream = buf[0] === 3 ? "stderr" : "stdout";
    const data = Buffer.from(buf.subarray(1));
    if (handler) handler(stream, data);
    else pending.push({ stream, data });
  });
  const finish = () => {
    closed = true;
    onClosed?.();
  };
  sock.on("end", finish);
  sock.on("close", finish);
  sock.on("error", finish);
  await new Promise<void>((resolve, reject) => {
    try {
      sock.connect(path, () => resolve());
    } catch (err) {
      reject(new RuntimeError(`cannot attach to ${path}: ${(err as Error).message}`));
    }
  });
  return {
    onOutput(fn) {
      handler = fn;
      for (const p of pending.splice(0)) fn(p.stream, p.data);
    },
    write(data) {
      if (!closed) sock.write(data);
    },
    end() {
      if (!closed) sock.end();
    },
    drained: () => Promise.race([closedPromise, new Promise<void>((r) => setTimeout(r, 2000).unref())]),
    close() {
      if (!closed) sock.destroy();
      closed = true;
    },
  };
}
