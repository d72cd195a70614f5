import { CommandStartError, RuntimeError } from "./errors.js";

/**
 * What the runtime said when the container's process could not start, as Docker reports it:
 * a missing executable or path gives exit status 127, one that cannot be executed 126, anything
 * else is the runtime failing (125). Only what the runtime says about executing the command
 * counts: a root filesystem that is missing is no missing command.
 */
export function startFailure(message: string, op: "create" | "exec" = "create"): Error {
  const text =
    op === "exec"
      ? `OCI runtime exec failed: exec failed: ${message}: unknown`
      : `failed to create task for container: OCI runtime create failed: ${message}: unknown`;
  const executing = /unable to start container process|exec: "/.test(message);
  if (
    /executable file (.* )?not found/.test(message) ||
    (executing && /no such file or directory/.test(message))
  )
    return new CommandStartError(text, 127);
  if (executing && /permission denied|exec format error|is a directory/.test(message))
    return new CommandStartError(text, 126);
  return new RuntimeError(text);
}
