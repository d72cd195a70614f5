import { BerthError } from "../errors.js";

/** A template that does not parse or fails while executing; the message is Go's, word for word. */
export class TemplateError extends BerthError {
  override readonly name: string = "TemplateError";
  override readonly code: string = "TEMPLATE";
}

/** `template: NAME:LINE: …`: the template text is wrong. */
export class TemplateParseError extends TemplateError {
  override readonly name = "TemplateParseError";
  override readonly code = "TEMPLATE_PARSE";
}

/** `template: NAME:LINE:COL: executing "NAME" at <NODE>: …`: the text is right, the data did not fit. */
export class TemplateExecError extends TemplateError {
  override readonly name = "TemplateExecError";
  override readonly code = "TEMPLATE_EXEC";

  constructor(
    message: string,
    /** The template that was executing. */
    readonly templateName: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
