import { BerthError } from "../errors.js";
import { InvalidReferenceError } from "../oci/errors.js";
import { Command, CommanderError } from "./commander.js";

type Loader = () => Promise<Command>;

/**
 * Each top-level command, loaded only when it runs: `berth images` should not pay for the HTTP
 * client, nor `berth registry serve` for the image store. Help loads them all.
 */
const commands: Record<string, Loader> = {
  pull: async () => (await import("./pull.js")).pullCommand(),
  push: async () => (await import("./push.js")).pushCommand(),
  tag: async () => (await import("./tag.js")).tagCommand(),
  images: async () => (await import("./images.js")).imagesCommand(),
  rmi: async () => (await import("./rmi.js")).rmiCommand(),
  history: async () => (await import("./images.js")).historyCommand(),
  save: async () => (await import("./archive.js")).saveCommand(),
  load: async () => (await import("./archive.js")).loadCommand(),
  search: async () => (await import("./search.js")).searchCommand(),
  login: async () => (await import("./login.js")).loginCommand(),
  logout: async () => (await import("./login.js")).logoutCommand(),
  copy: async () => (await import("./copy.js")).copyCommand(),
  tags: async () => (await import("./copy.js")).tagsCommand(),
  manifest: async () => (await import("./manifest.js")).manifestCommand(),
  image: imageGroup,
  registry: async () => (await import("./registry.js")).registryCommand(),
  build: async () => (await import("./build.js")).buildCommand(),
  buildx: async () => (await import("./build.js")).buildxCommand(),
  builder: async () => (await import("./build.js")).builderCommand(),
  system: async () => (await import("./build.js")).systemCommand(),
  version: async () => (await import("./version.js")).versionCommand(),
  completion: async () => (await import("./completion.js")).completionCommand(),
  run: async () => (await import("./run.js")).runCommand(),
  create: async () => (await import("./run.js")).createCommand(),
  ps: async () => (await import("./ps.js")).psCommand(),
  start: async () => (await import("./containers.js")).startCommand(),
  stop: async () => (await import("./containers.js")).stopCommand(),
  restart: async () => (await import("./containers.js")).restartCommand(),
  kill: async () => (await import("./containers.js")).killCommand(),
  rm: async () => (await import("./containers.js")).rmCommand(),
  wait: async () => (await import("./containers.js")).waitCommand(),
  rename: async () => (await import("./containers.js")).renameCommand(),
  logs: async () => (await import("./logs.js")).logsCommand(),
  exec: async () => (await import("./exec.js")).execCommand(),
  top: async () => (await import("./exec.js")).topCommand(),
  port: async () => (await import("./exec.js")).portCommand(),
  attach: async () => (await import("./exec.js")).attachCommand(),
  inspect: async () => (await import("./exec.js")).inspectCommand(true),
  diff: async () => (await import("./container-files.js")).diffCommand(),
  commit: async () => (await import("./container-files.js")).commitCommand(),
  export: async () => (await import("./container-files.js")).exportCommand(),
  cp: async () => (await import("./container-files.js")).cpCommand(),
  container: containerGroup,
};

/** `berth container ls|run|…`, as `docker container …`. */
async function containerGroup(): Promise<Command> {
  const [run, ps, life, logs, exec, files] = await Promise.all([
    import("./run.js"),
    import("./ps.js"),
    import("./containers.js"),
    import("./logs.js"),
    import("./exec.js"),
    import("./container-files.js"),
  ]);
  return new Command("container")
    .description("Manage containers")
    .enablePositionalOptions()
    .addCommand(ps.psCommand("ls").aliases(["ps", "list"]))
    .addCommand(run.runCommand())
    .addCommand(run.createCommand())
    .addCommand(life.startCommand())
    .addCommand(life.stopCommand())
    .addCommand(life.restartCommand())
    .addCommand(life.killCommand())
    .addCommand(life.rmCommand("rm").alias("remove"))
    .addCommand(life.waitCommand())
    .addCommand(life.renameCommand())
    .addCommand(life.pruneContainersCommand())
    .addCommand(logs.logsCommand())
    .addCommand(exec.execCommand())
    .addCommand(exec.topCommand())
    .addCommand(exec.portCommand())
    .addCommand(exec.attachCommand())
    .addCommand(exec.inspectCommand())
    .addCommand(files.diffCommand())
    .addCommand(files.commitCommand())
    .addCommand(files.exportCommand())
    .addCommand(files.cpCommand())
    .addCommand(life.cleanupCommand(), { hidden: true });
}

async function imageGroup(): Promise<Command> {
  const [pull, push, tag, images, rmi, archive, build] = await Promise.all([
    import("./pull.js"),
    import("./push.js"),
    import("./tag.js"),
    import("./images.js"),
    import("./rmi.js"),
    import("./archive.js"),
    import("./build.js"),
  ]);
  return new Command("image")
    .description("Manage images")
    .addCommand(images.imagesCommand("ls").alias("list"))
    .addCommand(pull.pullCommand())
    .addCommand(push.pushCommand())
    .addCommand(tag.tagCommand())
    .addCommand(rmi.rmiCommand("rm").alias("remove"))
    .addCommand(rmi.pruneCommand())
    .addCommand(images.inspectCommand())
    .addCommand(images.historyCommand())
    .addCommand(archive.saveCommand())
    .addCommand(archive.loadCommand())
    .addCommand(build.buildCommand());
}

export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command("berth")
    .description("Berth: a container image registry, client and runtime")
    .version("0.1.0", "-v, --version", "print the version")
    .option("--root <dir>", "local image store (default $BERTH_ROOT or ~/.local/share/berth)")
    // Global options go before the command, as docker's do; `registry serve --root` is the server's own.
    .enablePositionalOptions();
  const names = only && only in commands ? [only] : Object.keys(commands);
  for (const name of names) program.addCommand(await commands[name]!());
  overrideExits(program);
  return program;
}

/** The command whose arguments commander refused last, for the usage line of the message. */
let refusing: Command | undefined;

/**
 * Commander exits the process on errors unless told otherwise, and prints its own words:
 * on every command of the tree, errors come back as CommanderErrors and are worded here.
 */
function overrideExits(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: () => {
      refusing = cmd;
    },
  });
  for (const sub of cmd.commands) overrideExits(sub);
}

/** The first argument that is not a global option: the command to load. */
function commandName(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--root") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/**
 * Global flags may come after the command too (`berth images --root DIR`): they are moved in
 * front of it, where commander reads them. `registry serve --root` is the server's own flag.
 */
export function hoistGlobalFlags(argv: string[]): string[] {
  const name = commandName(argv);
  if (!name || name === "registry") return argv;
  const at = argv.indexOf(name, 2);
  const head = argv.slice(0, at);
  const rest: string[] = [];
  const tail = argv.slice(at);
  // run, create and exec end with a command for the container: what follows its image or
  // container is that command's, flags included.
  const carriesCommand = (arg: string) => ["run", "create", "exec"].includes(arg);
  let positionals = 0;
  let sub = 0;
  for (let i = 0; i < tail.length; i++) {
    const arg = tail[i]!;
    if (arg === "--") {
      rest.push(...tail.slice(i));
      break;
    }
    if (!arg.startsWith("-")) {
      positionals++;
      if (i === 0 || (i === 1 && tail[0] === "container")) sub = i;
      const command = tail[sub]!;
      if (carriesCommand(command) && positionals > sub + 1) {
        rest.push(...tail.slice(i));
        break;
      }
    }
    if (arg === "--root" && i + 1 < tail.length) head.push(arg, tail[++i]!);
    else if (arg.startsWith("--root=")) head.push(arg);
    else rest.push(arg);
  }
  return [...head, ...rest];
}

/** What `berth X --help` would call the command: "berth image ls". */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * A usage mistake in Docker's words and with its exit status: a flag error exits 125, an
 * argument-count error 1, each followed by the usage line and where to read more.
 */
function usageError(err: CommanderError): { text: string; status: number } {
  const cmd = refusing;
  const path = cmd ? commandPath(cmd) : "berth";
  const usage = cmd ? `\n\nUsage:  ${path} ${cmd.usage()}\n\nRun '${path} --help' for more information` : "";
  const m = err.message.replace(/^error: /, "");
  const quoted = /'([^']+)'/.exec(m)?.[1] ?? "";
  switch (err.code) {
    case "commander.unknownOption":
      return { text: `unknown flag: ${quoted}${usage}`, status: 125 };
    case "commander.optionMissingArgument":
      return { text: `flag needs an argument: ${quoted.split(/[ ,]/)[0]}${usage}`, status: 125 };
    case "commander.invalidArgument":
      return { text: `${m}${usage}`, status: 125 };
    case "commander.missingArgument":
    case "commander.excessArguments": {
      const wanted = cmd?.registeredArguments.filter((a) => a.required).length ?? 1;
      return {
        text: `berth: '${path}' requires ${wanted === 1 ? "1 argument" : `${wanted} arguments`}${usage}`,
        status: 1,
      };
    }
    case "commander.unknownCommand":
      return {
        text: `berth: unknown command: berth ${quoted}\n\nRun '${cmd ? commandPath(cmd) : "berth"} --help' for more information`,
        status: 1,
      };
    default:
      return { text: m, status: err.exitCode === 0 ? 0 : 125 };
  }
}

/** An error from the system about something the user pointed at (a full disk, a refused permission): no bug. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === "string";
}

function isClosedPipe(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "EPIPE" || code === "ERR_STREAM_DESTROYED") return true;
  }
  return false;
}

let stdoutClosed = false;

/**
 * A reader that goes away (`berth pull x | head -1`) closes stdout: what is still to print is
 * dropped and the command finishes its work, where a stack trace would otherwise end it.
 */
function quietOnClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (!isClosedPipe(err)) throw err;
    stdoutClosed = true;
  });
}

/** Runs the CLI and resolves to the process exit code. Long-running commands resolve when they stop. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdout();
  const args = hoistGlobalFlags(argv);
  try {
    const program = await buildProgram(commandName(args));
    await program.parseAsync(args);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      const { text, status } = usageError(err);
      process.stderr.write(`${text}\n`);
      return status;
    }
    // The reader of our output went away: stop quietly, as a program killed by SIGPIPE does.
    if (isClosedPipe(err) && stdoutClosed) return 141;
    return reportError(err);
  }
}

/**
 * Prints an error once, at the edge: a BerthError or a system error as one line (Docker prints
 * reference errors bare, Berth everything else after "Error: "); anything else is a bug in
 * Berth, printed with its stack so that it can be reported.
 */
export function reportError(err: unknown): number {
  if (err instanceof InvalidReferenceError) {
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof BerthError) {
    process.stderr.write(`Error: ${err.message}\n`);
    return err.exitCode;
  }
  if (isSystemError(err)) {
    process.stderr.write(`Error: ${err.message}\n`);
    return 1;
  }
  const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  process.stderr.write(`berth: internal error (a bug in berth; please report it):\n${stack}\n`);
  return 1;
}
