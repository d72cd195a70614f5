/**
 * The one base of every error Berth throws on purpose, after undici's `UndiciError`: a stable
 * `code` that callers branch on without parsing messages, and a message a user can act on.
 * The CLI prints a BerthError as one line and exits with its `exitCode`; any other error is a
 * bug and is printed with its stack.
 */
export class BerthError extends Error {
  override readonly name: string = "BerthError";
  readonly code: string = "BERTH_ERROR";
  /** The docker CLI's exit status for this failure: 125 for a usage or flag mistake, else 1. */
  readonly exitCode: number = 1;
}

/** A command used wrongly: a bad flag value, a missing argument, flags that exclude each other. */
export class UsageError extends BerthError {
  override readonly name = "UsageError";
  override readonly code = "USAGE";
  override readonly exitCode = 125;
}

/** A request the user made that cannot be done as asked (a path that cannot be written, a name that is taken). */
export class InvalidArgumentError extends BerthError {
  override readonly name = "InvalidArgumentError";
  override readonly code = "INVALID_ARGUMENT";
}
