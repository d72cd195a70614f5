import { Command, CommanderError } from "commander";
import { registryCommand } from "./registry.js";

export function buildProgram(): Command {
  const program = new Command("berth")
    .description("Berth: a container image registry and client")
    .version("0.1.0", "-v, --version", "print the version")
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(registryCommand());
  return program;
}

/** Runs the CLI and resolves to the process exit code. Long-running commands resolve when they stop. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}
