import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

export interface Prompter {
  /** Asks a question on the terminal; a secret answer is not echoed. */
  ask(question: string, secret?: boolean): Promise<string>;
  close(): void;
}

/**
 * Questions on the terminal, all through one readline interface so that lines typed ahead are
 * not lost between questions. Echo is cut by dropping readline's own output after the question.
 */
export function openPrompter(): Prompter {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return {
    async ask(question: string, secret = false): Promise<string> {
      const answer = rl.question(question);
      muted = secret;
      try {
        return await answer;
      } finally {
        if (muted) process.stdout.write("\n");
        muted = false;
      }
    },
    close: () => rl.close(),
  };
}

/**
 * Asks a yes/no question as Docker's prompts do ("[y/N]"): only "y" or "yes" is a yes, and an
 * input that ends before an answer (stdin at EOF, a closed pipe) is a no.
 */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const rl = createInterface({ input: process.stdin, terminal: false });
  const answer = await new Promise<string>((resolve) => {
    rl.once("line", resolve);
    rl.once("close", () => resolve(""));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
