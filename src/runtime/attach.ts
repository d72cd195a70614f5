import { spawn } from "node:child_process";
import { RuntimeError } from "./errors.js";

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
 * A bridge to a SOCK_SEQPACKET socket, which Node's net module cannot open: Python's socket
 * module can, and Python is on every machine Node's native builds need. It connects, hands each
 * message it receives to us as a 4-byte length and the message, sends what we write as
 * messages, and shuts its sending side down when our input ends.
 */
const BRIDGE = `
import os, socket, struct, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    sys.stderr.write(str(e))
    sys.exit(2)
out = sys.stdout.buffer
out.write(b"ok"); out.flush()
def pump():
    while True:
        data = os.read(0, 4096)
        if not data:
            try: s.shutdown(socket.SHUT_WR)
            except OSError: pass
            return
        s.send(data)
threading.Thread(target=pump, daemon=True).start()
while True:
    msg = s.recv(65536)
    if not msg:
        break
    out.write(struct.pack(">I", len(msg)) + msg); out.flush()
`;

/**
 * conmon's attach socket: SOCK_SEQPACKET, each message from conmon starting with one byte that
 * names the stream (2 stdout, 3 stderr); what we send is the container's stdin.
 */
export async function openAttach(path: string): Promise<AttachSession> {
  const bridge = spawn("python3", ["-c", BRIDGE, path], { stdio: ["pipe", "pipe", "pipe"] });
  const pending: { stream: "stdout" | "stderr"; data: Buffer }[] = [];
  let handler: ((stream: "stdout" | "stderr", data: Buffer) => void) | undefined;
  let closed = false;
  let stderr = "";
  const exited = new Promise<void>((resolve) => bridge.on("close", () => resolve()));
  exited.then(() => {
    closed = true;
  });
  bridge.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  bridge.stdin.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    bridge.on("error", (err) =>
      reject(
        new RuntimeError(
          `cannot attach to ${path}: python3 is needed to open conmon's socket: ${err.message}`,
        ),
      ),
    );
    bridge.stdout.once("data", (first: Buffer) => {
      if (first.subarray(0, 2).toString() !== "ok") {
        reject(new RuntimeError(`cannot attach to ${path}: unexpected answer from the bridge`));
        return;
      }
      let buffered = first.subarray(2);
      const take = () => {
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0);
          if (buffered.length < 4 + length) return;
          const msg = buffered.subarray(4, 4 + length);
          buffered = buffered.subarray(4 + length);
          if (msg.length < 1) continue;
          const stream = msg[0] === 3 ? "stderr" : "stdout";
          const data = Buffer.from(msg.subarray(1));
          if (handler) handler(stream, data);
          else pending.push({ stream, data });
        }
      };
      take();
      bridge.stdout.on("data", (chunk: Buffer) => {
        buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
        take();
      });
      resolve();
    });
    exited.then(() =>
      reject(new RuntimeError(`cannot attach to ${path}: ${stderr.trim() || "the connection closed"}`)),
    );
  });
  return {
    onOutput(fn) {
      handler = fn;
      for (const p of pending.splice(0)) fn(p.stream, p.data);
    },
    write(data) {
      if (!closed) bridge.stdin.write(data);
    },
    end() {
      if (!closed) bridge.stdin.end();
    },
    drained: () => Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]),
    close() {
      if (!closed) bridge.kill();
      closed = true;
    },
  };
}
