import { createRequire } from "node:module";
import type * as Commander from "commander";

// commander is a CommonJS package. Node 20 imports one through an ESM wrapper that first lexes
// its sources for their export names, about 15 ms of every berth start (measured on `images`);
// require() loads the same module without that step. In the esbuild bundle, which is CommonJS,
// `require` is defined and esbuild inlines the package (scripts/bundle.ts).
const commander = (
  typeof require === "function" ? require("commander") : createRequire(import.meta.url)("commander")
) as typeof Commander;

export const { Command, CommanderError, InvalidArgumentError: CommanderInvalidArgument } = commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
