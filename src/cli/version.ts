import { arch, platform } from "node:os";
import { defaultRoot } from "../images/local-store.js";
import { Command } from "./commander.js";
import { printInspect } from "./output.js";

const OS: Record<string, string> = { win32: "windows" };
const ARCH: Record<string, string> = { x64: "amd64", ia32: "386" };

/** `berth version`: as `docker version` prints its client half (Berth has no daemon). */
export function versionCommand(): Command {
  return new Command("version")
    .description("Show the Berth version information")
    .option("-f, --format <string>", "format output using a custom template ('json' for JSON)")
    .action(function (this: Command, flags: { format?: string }) {
      const globals = this.optsWithGlobals() as { root?: string };
      const info = {
        Client: {
          Version: "0.1.0",
          NodeVersion: process.version,
          Os: OS[platform()] ?? platform(),
          Arch: ARCH[arch()] ?? arch(),
          StoreRoot: globals.root ?? defaultRoot(),
        },
      };
      if (flags.format === "json") {
        process.stdout.write(`${JSON.stringify(info)}\n`);
        return;
      }
      if (flags.format) {
        printInspect([info], flags.format);
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
