/**
 * A Dockerfile as Berth evaluates it: stages of typed instructions, each with the words it was
 * written with (variables not yet expanded: expansion needs the build's arguments and the base
 * image's environment) and where it was written.
 */

export interface Location {
  /** The Dockerfile's name as the user gave it ("Dockerfile", "build/app.Dockerfile"). */
  file: string;
  /** 1-based first and last line. */
  line: number;
  endLine: number;
}

export interface Heredoc {
  name: string;
  /** The body with its final newline, tabs stripped for `<<-`. */
  content: string;
  /** `<<EOF` expands variables (COPY/ADD); `<<"EOF"` and `<<'EOF'` do not. */
  expand: boolean;
}

/** A command as written: shell form (one string, run through SHELL) or exec form (JSON). */
export type CommandLine = { form: "shell"; text: string } | { form: "exec"; args: string[] };

export interface KeyValue {
  key: string;
  /** As written, quotes included; undefined for `ARG NAME`. */
  value?: string;
}

interface Base {
  loc: Location;
  /** The instruction as written on one line (continuations joined), for progress and errors. */
  original: string;
}

export interface FromInstruction extends Base {
  kind: "FROM";
  image: string;
  stageName?: string;
  platform?: string;
}

export interface RunInstruction extends Base {
  kind: "RUN";
  command: CommandLine;
  heredocs: Heredoc[];
  network?: string;
}

export interface CopyInstruction extends Base {
  kind: "COPY" | "ADD";
  sources: string[];
  /** Inline files (`COPY <<EOF /dest`), in order after `sources`. */
  heredocs: Heredoc[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** ADD --checksum=sha256:… for a URL. */
  checksum?: string;
}

export interface PairsInstruction extends Base {
  kind: "ENV" | "LABEL";
  pairs: Required<KeyValue>[];
}

export interface ArgInstruction extends Base {
  kind: "ARG";
  args: KeyValue[];
}

export interface WordInstruction extends Base {
  kind: "WORKDIR" | "USER" | "STOPSIGNAL" | "MAINTAINER" | "EXPOSE";
  /** The argument text, as written. */
  value: string;
}

export interface VolumeInstruction extends Base {
  kind: "VOLUME";
  /** JSON form: the strings; shell form: the white-space separated words. */
  volumes: string[];
}

export interface CommandInstruction extends Base {
  kind: "CMD" | "ENTRYPOINT";
  command: CommandLine;
}

export interface ShellInstruction extends Base {
  kind: "SHELL";
  shell: string[];
}

export interface Healthcheck {
  test: string[];
  /** Nanoseconds, as the image config stores them; 0 means the default. */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends Base {
  kind: "HEALTHCHECK";
  /** Undefined for `HEALTHCHECK NONE`. */
  check: Healthcheck | undefined;
}

export interface OnbuildInstruction extends Base {
  kind: "ONBUILD";
  /** The trigger as written, run when an image builds FROM this one. */
  expression: string;
}

export type Instruction =
  | RunInstruction
  | CopyInstruction
  | PairsInstruction
  | ArgInstruction
  | WordInstruction
  | VolumeInstruction
  | CommandInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

export interface Stage {
  /** Position in the Dockerfile, from 0 (`COPY --from=0`). */
  index: number;
  /** `AS name`, lower-cased as BuildKit compares it. */
  name?: string;
  from: FromInstruction;
  instructions: Instruction[];
}

export interface Dockerfile {
  file: string;
  /** The `escape` directive's character. */
  escape: string;
  /** The `syntax` directive, recorded only: Berth evaluates Dockerfiles itself. */
  syntax?: string;
  /** ARGs before the first FROM: usable in FROM lines and redeclared inside stages. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** The text, for showing the lines around an error. */
  text: string;
}
