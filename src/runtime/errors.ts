import { BerthError } from "../errors.js";

/** Something the runtime could not do; the docker CLI exits 125 when the daemon fails a run. */
export class RuntimeError extends BerthError {
  override readonly name: string = "RuntimeError";
  override readonly code: string = "RUNTIME";
}

export class NoSuchContainerError extends BerthError {
  override readonly name = "NoSuchContainerError";
  override readonly code = "NO_SUCH_CONTAINER";
  constructor(readonly input: string) {
    super(`No such container: ${input}`);
  }
}

/** A request that conflicts with a container's state or name (Docker's 409 answers). */
export class ContainerConflictError extends BerthError {
  override readonly name = "ContainerConflictError";
  override readonly code = "CONTAINER_CONFLICT";
}

/** The container's command could not be started: 126 (not executable) or 127 (not found), as Docker exits. */
export class CommandStartError extends BerthError {
  override readonly name = "CommandStartError";
  override readonly code = "COMMAND_START";
  constructor(
    message: string,
    override readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A flag value the runtime cannot use (a bad -p, -v, --memory, user or signal). */
export class RuntimeUsageError extends BerthError {
  override readonly name = "RuntimeUsageError";
  override readonly code = "RUNTIME_USAGE";
  override readonly exitCode = 125;
}
