import { UsageError } from "../errors.js";
import { Command } from "./commander.js";

/** A command of the tree, as completion scripts need it. */
interface Node {
  path: string;
  names: string[];
  description: string;
  flags: { long?: string; short?: string; description: string }[];
  children: Node[];
  /** The first argument names a local image (rmi, push, tag, save, history, inspect, run, …). */
  takesImage: boolean;
}

function describe(cmd: Command, path: string): Node {
  const args = cmd.registeredArguments.map((a) => a.name());
  return {
    path,
    names: [cmd.name(), ...cmd.aliases()],
    description: cmd.description().split("\n")[0] ?? "",
    flags: [
      ...cmd.options.map((o) => ({ long: o.long, short: o.short, description: o.description })),
      { long: "--help", short: "-h", description: "display help for command" },
    ],
    children: cmd.commands.map((c) => describe(c, path ? `${path} ${c.name()}` : c.name())),
    takesImage: /^(image|images|source|name)$/.test(args[0] ?? ""),
  };
}

function walk(node: Node, visit: (n: Node, parent?: Node) => void, parent?: Node): void {
  visit(node, parent);
  for (const child of node.children) walk(child, visit, node);
}

function words(node: Node): string {
  const subcommands = node.children.flatMap((c) => c.names);
  const flags = node.flags.flatMap((f) => [f.long, f.short].filter((x): x is string => Boolean(x)));
  return [...subcommands, ...flags].join(" ");
}

/** bash: one function that finds the command path in the words typed so far, then offers its words. */
export function bashScript(root: Node): string {
  const steps: string[] = [];
  const offers: string[] = [];
  walk(root, (node, parent) => {
    if (parent)
      for (const name of node.names) steps.push(`    "${parent.path}|${name}") echo "${node.path}" ;;`);
    const images = node.takesImage && node.children.length === 0 ? " images=1;" : "";
    offers.push(`    "${node.path}") opts="${words(node)}";${images} ;;`);
  });
  return `# bash completion for berth                               -*- shell-script -*-
# Load it with: source <(berth completion bash)
_berth_step() {
  case "$1|$2" in
${steps.join("\n")}
    *) return 1 ;;
  esac
}

_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" next word i opts="" images=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ $word == -* ]] && continue
    if next=$(_berth_step "$path" "$word"); then path=$next; fi
  done
  case "$path" in
${offers.join("\n")}
  esac
  if [[ $cur != -* && $images == 1 ]]; then
    opts="$opts $(berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>')"
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _berth berth
`;
}

/** zsh runs the bash function through its bash-completion layer, so both shells complete alike. */
export function zshScript(root: Node): string {
  return `#compdef berth
# Load it with: source <(berth completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(root).replace(/^# .*\n# Load it with.*\n/, "")}`;
}

function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** fish: a `complete` line per subcommand and flag, guarded by the subcommands seen before it. */
export function fishScript(root: Node): string {
  const lines = [
    "# fish completion for berth",
    "# Load it with: berth completion fish | source",
    "complete -c berth -f",
  ];
  walk(root, (node) => {
    const path = node.path ? node.path.split(" ") : [];
    const guard =
      path.length === 0
        ? "__fish_use_subcommand"
        : `__fish_seen_subcommand_from ${path.at(-1)}${path.length > 1 ? `; and __fish_seen_subcommand_from ${path[0]}` : ""}`;
    for (const child of node.children) {
      lines.push(
        `complete -c berth -n ${fishQuote(guard)} -a ${child.names[0]} -d ${fishQuote(child.description)}`,
      );
    }
    if (path.length === 0) return;
    for (const flag of node.flags) {
      const parts = [`complete -c berth -n ${fishQuote(`__fish_seen_subcommand_from ${path.at(-1)}`)}`];
      if (flag.long) parts.push(`-l ${flag.long.replace(/^--/, "")}`);
      if (flag.short) parts.push(`-s ${flag.short.replace(/^-/, "")}`);
      parts.push(`-d ${fishQuote(flag.description)}`);
      lines.push(parts.join(" "));
    }
  });
  return `${lines.join("\n")}\n`;
}

export function completionCommand(): Command {
  return new Command("completion")
    .description("Print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", "bash, zsh or fish")
    .action(async (shell: string) => {
      const make = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell];
      if (!make) throw new UsageError(`unsupported shell "${shell}": use bash, zsh or fish`);
      const { buildProgram } = await import("./main.js");
      process.stdout.write(make(describe(await buildProgram(), "")));
    });
}
