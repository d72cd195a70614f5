import { arch, platform } from "node:os";
import { TemplateError } from "../gotemplate/errors.js";
import type { Template } from "../gotemplate/template.js";
import { goStruct } from "../gotemplate/values.js";
import { defaultRoot } from "../images/local-store.js";
import { Command } from "./commander.js";
import { FormatError } from "./format/errors.js";
import { parseDockerTemplate } from "./format/functions.js";

const OS: Record<string, string> = { win32: "windows" };
const ARCH: Record<string, string> = { x64: "amd64", ia32: "386" };

/** `berth version`: as `docker version` prints its client half (Berth has no daemon). */
export function versionCommand(): Command {
  return new Command("version")
    .description("Show the Berth version information")
    .option("-f, --format <string>", "format output using a custom template ('json' for JSON)")
    .action(function (this: Command, flags: { format?: string }) {
      const globals = this.optsWithGlobals() as { root?: string };
      // Structs of docker's types, so that a template's errors read as `docker version`'s.
      const info = goStruct(
        {
          Client: goStruct(
            {
              Version: "0.1.0",
              NodeVersion: process.version,
              Os: OS[platform()] ?? platform(),
              Arch: ARCH[arch()] ?? arch(),
              StoreRoot: globals.root ?? defaultRoot(),
            },
            "system.clientVersion",
          ),
        },
        "system.versionInfo",
      );
      if (flags.format) {
        printVersion(info, flags.format === "json" ? "{{json .}}" : flags.format);
        return;
      }
      const c = info.Client;
      process.stdout.write(
        [
          "Client:",
          ` Version:           ${c.Version}`,
          ` Node version:      ${c.NodeVersion}`,
          ` OS/Arch:           ${c.Os}/${c.Arch}`,
          ` Store root:        ${c.StoreRoot}`,
          "",
        ].join("\n"),
      );
    });
}

/**
 * `docker version --format`: the template is named "version", its output goes out as it is
 * written, a newline follows whatever happens, and an error is printed as Go wrote it.
 */
function printVersion(info: object, format: string): void {
  let template: Template;
  try {
    template = parseDockerTemplate(format, "version");
  } catch (e) {
    if (e instanceof TemplateError)
      throw new FormatError(`template parsing error: ${e.message}`, 64, { cause: e });
    throw e;
  }
  try {
    template.executeTo((s) => process.stdout.write(s), info);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw new FormatError(e.message, 1, { cause: e });
  } finally {
    process.stdout.write("\n");
  }
}
