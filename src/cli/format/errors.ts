import { BerthError } from "../../errors.js";

/**
 * A --format template that does not parse or fails on the data, worded as the docker CLI words
 * it ("template parsing error: template: :1: …"), printed as that one line and exiting with the
 * status docker exits with for that command (1, or 64 for inspect's and version's parse errors).
 */
export class FormatError extends BerthError {
  override readonly name = "FormatError";
  override readonly code = "FORMAT";
  override readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
