import { BerthError } from "../errors.js";
import { InvalidReferenceError } from "../oci/errors.js";
import { Command, CommanderError } from "./commander.js";
import { FormatError } from "./format/errors.js";

type Loader = () => Promise<Command>;

interface Entry {
  /** What the root help lists for it: its usage term and description (a test keeps them equal to the command's). */
  help: [term: string, description: string];
  load: Loader;
}

/**
 * Each top-level command, loaded only when it runs: `berth images` should not pay for the HTTP
 * client, nor `berth registry serve` for the image store. The root help, `--version` and an
 * unknown command load none of them.
 */
const commands: Record<string, Entry> = {
  pull: {
    help: ["pull [options] <name>", "Download an image from a registry"],
    load: async () => (await import("./pull.js")).pullCommand(),
  },
  push: {
    help: ["push [options] <name>", "Upload an image to a registry"],
    load: async () => (await import("./push.js")).pushCommand(),
  },
  tag: {
    help: ["tag <source> <target>", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"],
    load: async () => (await import("./tag.js")).tagCommand(),
  },
  images: {
    help: ["images [options] [repository]", "List images"],
    load: async () => (await import("./images.js")).imagesCommand(),
  },
  rmi: {
    help: ["rmi [options] <images...>", "Remove one or more images"],
    load: async () => (await import("./rmi.js")).rmiCommand(),
  },
  history: {
    help: ["history [options] <image>", "Show the history of an image"],
    load: async () => (await import("./images.js")).historyCommand(),
  },
  save: {
    help: [
      "save [options] <images...>",
      "Save one or more images to a tar archive (streamed to STDOUT by default)",
    ],
    load: async () => (await import("./archive.js")).saveCommand(),
  },
  load: {
    help: [
      "load [options]",
      "Load an image from a tar archive (docker-archive, OCI archive) or an OCI layout directory",
    ],
    load: async () => (await import("./archive.js")).loadCommand(),
  },
  search: {
    help: ["search [options] <term>", "Search registries for images"],
    load: async () => (await import("./search.js")).searchCommand(),
  },
  login: {
    help: ["login [options] [server]", "Log in to a registry"],
    load: async () => (await import("./login.js")).loginCommand(),
  },
  logout: {
    help: ["logout [server]", "Log out from a registry"],
    load: async () => (await import("./login.js")).logoutCommand(),
  },
  copy: {
    help: [
      "copy [options] <source> <destination>",
      "Copy an image between registries and archives without the local store (NAME, docker://NAME, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG])",
    ],
    load: async () => (await import("./copy.js")).copyCommand(),
  },
  tags: {
    help: ["tags <name>", "List the tags of a remote repository"],
    load: async () => (await import("./copy.js")).tagsCommand(),
  },
  manifest: {
    help: ["manifest", "Manage Docker image manifests and manifest lists"],
    load: async () => (await import("./manifest.js")).manifestCommand(),
  },
  image: {
    help: ["image", "Manage images"],
    load: imageGroup,
  },
  registry: {
    help: ["registry", "Run Berth's registry server"],
    load: async () => (await import("./registry.js")).registryCommand(),
  },
  build: {
    help: ["build [options] <context>", "Build an image from a Dockerfile"],
    load: async () => (await import("./build.js")).buildCommand(),
  },
  buildx: {
    help: ["buildx", "Docker Buildx (Berth's builder)"],
    load: async () => (await import("./build.js")).buildxCommand(),
  },
  builder: {
    help: ["builder", "Manage builds"],
    load: async () => (await import("./build.js")).builderCommand(),
  },
  system: {
    help: ["system", "Manage Berth"],
    load: async () => (await import("./build.js")).systemCommand(),
  },
  version: {
    help: ["version [options]", "Show the Berth version information"],
    load: async () => (await import("./version.js")).versionCommand(),
  },
  completion: {
    help: ["completion <shell>", "Print a shell completion script (bash, zsh or fish)"],
    load: async () => (await import("./completion.js")).completionCommand(),
  },
  run: {
    help: ["run [options] <image> [command...]", "Create and run a new container from an image"],
    load: async () => (await import("./run.js")).runCommand(),
  },
  create: {
    help: ["create [options] <image> [command...]", "Create a new container"],
    load: async () => (await import("./run.js")).createCommand(),
  },
  ps: {
    help: ["ps [options]", "List containers"],
    load: async () => (await import("./ps.js")).psCommand(),
  },
  start: {
    help: ["start [options] <containers...>", "Start one or more stopped containers"],
    load: async () => (await import("./containers.js")).startCommand(),
  },
  stop: {
    help: ["stop [options] <containers...>", "Stop one or more running containers"],
    load: async () => (await import("./containers.js")).stopCommand(),
  },
  restart: {
    help: ["restart [options] <containers...>", "Restart one or more containers"],
    load: async () => (await import("./containers.js")).restartCommand(),
  },
  kill: {
    help: ["kill [options] <containers...>", "Kill one or more running containers"],
    load: async () => (await import("./containers.js")).killCommand(),
  },
  rm: {
    help: ["rm [options] <containers...>", "Remove one or more containers"],
    load: async () => (await import("./containers.js")).rmCommand(),
  },
  wait: {
    help: ["wait <containers...>", "Block until one or more containers stop, then print their exit codes"],
    load: async () => (await import("./containers.js")).waitCommand(),
  },
  rename: {
    help: ["rename <container> <name>", "Rename a container"],
    load: async () => (await import("./containers.js")).renameCommand(),
  },
  logs: {
    help: ["logs [options] <container>", "Fetch the logs of a container"],
    load: async () => (await import("./logs.js")).logsCommand(),
  },
  exec: {
    help: ["exec [options] <container> <command...>", "Execute a command in a running container"],
    load: async () => (await import("./exec.js")).execCommand(),
  },
  top: {
    help: ["top <container>", "Display the running processes of a container"],
    load: async () => (await import("./exec.js")).topCommand(),
  },
  port: {
    help: ["port <container> [port]", "List port mappings or a specific mapping for the container"],
    load: async () => (await import("./exec.js")).portCommand(),
  },
  attach: {
    help: [
      "attach [options] <container>",
      "Attach local standard input, output, and error streams to a running container",
    ],
    load: async () => (await import("./exec.js")).attachCommand(),
  },
  inspect: {
    help: ["inspect [options] <names...>", "Return low-level information on Docker objects"],
    load: async () => (await import("./exec.js")).inspectCommand(true),
  },
  diff: {
    help: ["diff <container>", "Inspect changes to files or directories on a container's filesystem"],
    load: async () => (await import("./container-files.js")).diffCommand(),
  },
  commit: {
    help: ["commit [options] <container> [repository]", "Create a new image from a container's changes"],
    load: async () => (await import("./container-files.js")).commitCommand(),
  },
  export: {
    help: ["export [options] <container>", "Export a container's filesystem as a tar archive"],
    load: async () => (await import("./container-files.js")).exportCommand(),
  },
  cp: {
    help: ["cp <src> <dest>", "Copy files/folders between a container and the local filesystem"],
    load: async () => (await import("./container-files.js")).cpCommand(),
  },
  container: {
    help: ["container", "Manage containers"],
    load: containerGroup,
  },
  scout: {
    help: ["scout", "What is inside an image: packages (SBOM) and known vulnerabilities"],
    load: async () => (await import("./scout.js")).scoutCommand(),
  },
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

function rootCommand(): Command {
  return (
    new Command("berth")
      .description("Berth: a container image registry, client and runtime")
      .version("0.1.0", "-v, --version", "print the version")
      .option("--root <dir>", "local image store (default $BERTH_ROOT or ~/.local/share/berth)")
      // Global options go before the command, as docker's do; `registry serve --root` is the server's own.
      .enablePositionalOptions()
  );
}

/** The program with the command `only` (every command when it names none: completion scripts need them all). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = rootCommand();
  const names = only && only in commands ? [only] : Object.keys(commands);
  for (const name of names) program.addCommand(await commands[name]!.load());
  overrideExits(program);
  return program;
}

/**
 * The program for the root help, `--version` and unknown commands: every command by name and
 * description only, listed as its own help would list it, none of their modules loaded.
 */
function programOfNames(): Command {
  const program = rootCommand();
  for (const [name, { help }] of Object.entries(commands))
    program.addCommand(new Command(name).description(help[1]));
  const usual = program.createHelp();
  program.configureHelp({
    subcommandTerm: (cmd) => commands[cmd.name()]?.help[0] ?? usual.subcommandTerm(cmd),
  });
  overrideExits(program);
  return program;
}

/** The command a command line runs (`help X` shows X's help, so loads X), or the names-only program. */
function programFor(args: string[]): Promise<Command> | Command {
  const name = commandName(args);
  const target = name === "help" ? args[args.indexOf("help", 2) + 1] : name;
  return target && target in commands ? buildProgram(target) : programOfNames();
}

/** The top-level commands with what the root help lists for each, for the test that keeps them true. */
export function commandHelp(): Record<string, [string, string]> {
  return Object.fromEntries(Object.entries(commands).map(([n, e]) => [n, e.help]));
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
      return unknownCommandError(cmd, quoted);
    // A group run without a subcommand prints its help (to stderr), as docker's do, and that is no error.
    case "commander.help":
      return { text: "", status: 0 };
    default:
      return { text: m, status: err.exitCode === 0 ? 0 : 125 };
  }
}

/** docker's words for a command that does not exist: the group's usage line when it is in one. */
function unknownCommandError(parent: Command | undefined, name: string): { text: string; status: number } {
  const path = parent ? commandPath(parent) : "berth";
  const usage = parent?.parent ? `\n\nUsage:  ${path}` : "";
  return {
    text: `berth: unknown command: ${path} ${name}${usage}\n\nRun '${path} --help' for more information`,
    status: 1,
  };
}

/**
 * A command line naming a command that does not exist, at the top or in a group (`berth
 * container stats`), is refused before anything runs, even with --help (which commander would
 * answer with the parent's help and status 0, so a missing command would look like a working
 * one). `help X` names a topic that must exist too.
 */
function refuseUnknownCommand(
  program: Command,
  args: string[],
): { text: string; status: number } | undefined {
  let cmd = program;
  let topic = false;
  for (let i = 2; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return undefined;
    if (arg === "--root" && cmd === program) i++;
    if (arg.startsWith("-")) continue;
    if (cmd.commands.length === 0) return undefined;
    if (arg === "help" && cmd === program && !topic) {
      topic = true;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub)
      return topic ? { text: `unknown help topic: ${arg}`, status: 1 } : unknownCommandError(cmd, arg);
    cmd = sub;
  }
  return undefined;
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
    const program = await programFor(args);
    const unknown = refuseUnknownCommand(program, args);
    if (unknown) {
      process.stderr.write(`${unknown.text}\n`);
      return unknown.status;
    }
    await program.parseAsync(args);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      const { text, status } = usageError(err);
      if (text) process.stderr.write(`${text}\n`);
      return status;
    }
    // The reader of our output went away: stop quietly, as a program killed by SIGPIPE does.
    if (isClosedPipe(err) && stdoutClosed) return 141;
    return reportError(err);
  }
}

/**
 * Prints an error once, at the edge: a BerthError or a system error as one line (Docker prints
 * reference and --format template errors bare, Berth everything else after "Error: "); anything
 * else is a bug in Berth, printed with its stack so that it can be reported.
 */
export function reportError(err: unknown): number {
  if (err instanceof InvalidReferenceError || err instanceof FormatError) {
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
