import { BerthError } from "../errors.js";
import type { Location } from "./instructions.js";

/** A build that cannot go on; `loc` names the Dockerfile line it stopped at, when there is one. */
export class BuildError extends BerthError {
  override readonly name: string = "BuildError";
  override readonly code: string = "BUILD_FAILED";
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(
    detail: string,
    readonly loc?: Location,
  ) {
    super(loc ? `${loc.file}:${loc.line}: ${detail}` : detail);
    this.detail = detail;
  }
}

/** The Dockerfile cannot be read as one: an unknown instruction, missing arguments, bad JSON. */
export class DockerfileSyntaxError extends BuildError {
  override readonly name = "DockerfileSyntaxError";
  override readonly code = "DOCKERFILE_SYNTAX";
}

/** A RUN step whose process exited non-zero (Docker's wording). */
export class RunFailedError extends BuildError {
  override readonly name = "RunFailedError";
  override readonly code = "RUN_FAILED";
  constructor(
    readonly args: string[],
    readonly status: number,
    loc?: Location,
  ) {
    super(
      `process ${JSON.stringify(args.join(" "))} did not complete successfully: exit code: ${status}`,
      loc,
    );
  }
}

/** The build context cannot be used as asked: too large, a path outside it, a missing source. */
export class BuildContextError extends BuildError {
  override readonly name = "BuildContextError";
  override readonly code = "BUILD_CONTEXT";
}
