import { createCipheriv } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const DOCKERFILE = `FROM docker.io/library/busybox:1
COPY small/ /app/small/
COPY big.bin /app/big.bin
RUN cd /app && find small -type f | wc -l > count.txt && cat small/d00/* | wc -c > bytes.txt
WORKDIR /app
ENV MODE=bench
CMD ["cat", "/app/count.txt"]
`;

/** Deterministic bytes: AES-256-CTR of zeros with a fixed key (incompressible, like a binary). */
function bytes(n: number, seed: number): Buffer {
  const key = Buffer.alloc(32, seed & 0xff);
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
}

/** bench/build.ts's context: `files` text files of 200 B–4 KiB in directories of 100, and 32 MiB incompressible. */
export async function makeContext(dir: string, files = 3000): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), DOCKERFILE);
  const perDir = 100;
  for (let i = 0; i < files; i++) {
    const sub = join(dir, "small", `d${String(Math.floor(i / perDir)).padStart(2, "0")}`);
    if (i % perDir === 0) await mkdir(sub, { recursive: true });
    // Text-like files of 200 B to 4 KiB: source code and config, compressible.
    const size = 200 + ((i * 7919) % 3900);
    const line = `file ${i}: ${"the quick brown fox jumps over the lazy dog ".repeat(4)}\n`;
    await writeFile(join(sub, `f${i}.txt`), line.repeat(Math.ceil(size / line.length)).slice(0, size));
  }
  await writeFile(join(dir, "big.bin"), bytes(32 * 1024 * 1024, 7));
}
