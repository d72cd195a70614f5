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
  container: containerGroup,
};

/** `berth container ls|run|…`, as `docker container …`. */
async function containerGroup(): Promise<Command> {
  const [run, ps, life, logs, exec] = await Promise.all([
    import("./run.js"),
    import("./ps.js"),
    import("./containers.js"),
    import("./logs.js"),
    import("./exec.js"),
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
    .enablePositionalOptions()
    .showHelpAfterError();
  const names = only && only in commands ? [only] : Object.keys(commands);
  for (const name of names) program.addCommand(await commands[name]!());
  overrideExits(program);
  return program;
}

/** Commander exits the process on errors unless told otherwise, on every command of the tree. */
function overrideExits(cmd: Command): void {
  cmd.exitOverride();
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

/** Runs the CLI and resolves to the process exit code. Long-running commands resolve when they stop. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(commandName(argv));
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // Docker prints reference errors bare and everything else after "Error: ".
    if (err instanceof InvalidReferenceError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}
