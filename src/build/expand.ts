import { BerthError } from "../errors.js";

/**
 * Variable expansion in Dockerfile words, with the shell-like rules of BuildKit's lexer
 * (frontend/dockerfile/shell): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`,
 * `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/rep}`, `${VAR//pat/rep}`; single quotes keep text
 * literally, double quotes allow `$` expansion, and the escape character (`\` or the `escape`
 * directive's backtick) escapes the next character. Unset variables expand to nothing.
 */

export class ExpansionError extends BerthError {
  override readonly name = "ExpansionError";
  override readonly code = "DOCKERFILE_EXPANSION";
}

/** Variables a word can see; `undefined` means unset (not the same as empty). */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** The escape character of the Dockerfile (`escape` directive): `\` by default. */
  escape?: string;
  /** Keep quote characters in the result (used for display and for RUN's history). */
  rawQuotes?: boolean;
  /** Leave unset variables as they were written (`$X`, `${X}`) instead of removing them. */
  skipUnset?: boolean;
  /** Quotes are ordinary characters (BuildKit's raw expansion of some flags). */
  skipQuotes?: boolean;
}

export function envLookup(env: Map<string, string> | Record<string, string>): EnvLookup {
  if (env instanceof Map) return (name) => env.get(name);
  return (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
}

/** Expands a word: quotes are removed (unless rawQuotes), spaces between words kept. */
export function processWord(word: string, env: EnvLookup, opts: LexOptions = {}): string {
  return new Lexer(word, env, opts).run().result;
}

/**
 * Expands a word and splits the result into words on unquoted white space (as EXPOSE and
 * VOLUME read their arguments); white space that came from a variable's value splits too.
 */
export function processWords(word: string, env: EnvLookup, opts: LexOptions = {}): string[] {
  return new Lexer(word, env, opts).run().words;
}

const EOF = "";

class Words {
  private buf = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];
  private readonly escape: string;
  private rawEscapes = false;

  constructor(
    private readonly source: string,
    private readonly env: EnvLookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.escape = opts.escape ?? "\\";
  }

  run(): { result: string; words: string[] } {
    try {
      return this.until(EOF, false);
    } catch (err) {
      if (err instanceof ExpansionError)
        throw new ExpansionError(`failed to process ${JSON.stringify(this.source)}: ${err.message}`);
      throw err;
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** Reads up to `stop` (consumed) or the end; `rawEscapes` keeps escape characters in the text. */
  private until(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = "";
      const words = new Words();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === "$") {
          const value = this.dollar();
          result += value;
          words.addString(value);
        } else if (ch === "<") {
          const value = this.possibleHeredoc();
          result += value;
          words.addRaw(value);
        } else if (!this.opts.skipQuotes && ch === "'") {
          const value = this.singleQuote();
          result += value;
          words.addRaw(value);
        } else if (!this.opts.skipQuotes && ch === '"') {
          const value = this.doubleQuote();
          result += value;
          words.addRaw(value);
        } else {
          let c = this.next();
          if (c === this.escape) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            c = this.next();
            if (c === EOF) break;
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF)
        throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    let out = "";
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF)
        throw new ExpansionError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.opts.rawQuotes) out += ch;
        return out;
      }
      out += ch;
    }
  }

  private doubleQuote(): string {
    let out = "";
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const ch = this.peek();
      if (ch === EOF)
        throw new ExpansionError("unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.next();
        if (this.opts.rawQuotes) out += ch;
        return out;
      }
      if (ch === "$") {
        out += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.escape) {
        if (this.rawEscapes) out += c;
        const following = this.peek();
        if (following === EOF) continue;
        // Inside double quotes only these are escaped; other escape characters stay.
        if (following === '"' || following === "$" || following === this.escape) c = this.next();
      }
      out += c;
    }
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    while (this.peek() === " " || this.peek() === "\t") space += this.next();
    return `<<${space}`;
  }

  private name(): string {
    let name = "";
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) break;
      if (name === "" && /^\d$/u.test(ch)) {
        while (/^\d$/u.test(this.peek())) name += this.next();
        return name;
      }
      if (name === "" && "@*#?-$!0".includes(ch)) return this.next();
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  private lookup(name: string): string | undefined {
    return this.env(name);
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.name();
      if (name === "") return "$";
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return `$${name}`;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ExpansionError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":")
      throw new ExpansionError("syntax error: bad substitution");
    const name = this.name();
    let ch = this.next();
    let modifier = ch;
    let nullIsUnset = false;
    switch (ch) {
      case "}": {
        const value = this.lookup(name);
        if (value === undefined && this.opts.skipUnset) return `\${${name}}`;
        return value ?? "";
      }
      case ":":
        nullIsUnset = true;
        ch = this.next();
        modifier += ch;
        if (!"+-?".includes(ch) || ch === EOF)
          throw new ExpansionError(`unsupported modifier (${modifier}) in substitution`);
        return this.modifier(name, ch, modifier, nullIsUnset);
      case "+":
      case "-":
      case "?":
      case "#":
      case "%":
        return this.modifier(name, ch, modifier, nullIsUnset);
      case "/":
        return this.replace(name);
      case EOF:
        throw new ExpansionError("syntax error: missing '}'");
      default:
        throw new ExpansionError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private modifier(name: string, ch: string, modifier: string, nullIsUnset: boolean): string {
    const rawEscapes = ch === "#" || ch === "%";
    let word: string;
    try {
      word = this.until("}", rawEscapes).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '}'");
      throw err;
    }
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return unset ? word : value!;
      case "+":
        return unset ? "" : word;
      case "?":
        if (value === undefined) throw new ExpansionError(`${name}: ${word || "is not allowed to be unset"}`);
        if (nullIsUnset && value === "")
          throw new ExpansionError(`${name}: ${word || "is not allowed to be empty"}`);
        return value;
      default: {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === "%"
          ? trimSuffix(pattern, value ?? "", greedy)
          : trimPrefix(pattern, value ?? "", greedy);
      }
    }
  }

  private replace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.until("/", true).result;
    } catch (err) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: BuildKit's message names ${} literally
      if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '/' in ${}");
      throw err;
    }
    try {
      replacement = this.until("}", true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '}'");
      throw err;
    }
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternRegex(pattern, true, false, all ? "g" : "");
    return (value ?? "").replace(re, () => replacement);
  }
}

/**
 * A shell wildcard pattern (`?` one character, `*` any run, `[...]` a class, escapes) as a
 * regular expression; `greedy` picks the longest match for `*`.
 */
export function shellPatternRegex(pattern: string, greedy: boolean, anchored: boolean, flags = ""): RegExp {
  let re = "";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\\" && i + 1 < chars.length) {
      re += escapeRegex(chars[++i]!);
    } else if (ch === "*") {
      re += greedy ? ".*" : ".*?";
    } else if (ch === "?") {
      re += ".";
    } else if (ch === "[") {
      const close = chars.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let cls = chars.slice(i + 1, close).join("");
      if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else {
      re += escapeRegex(ch);
    }
  }
  return new RegExp(anchored ? `^${re}$` : re, `${flags}su`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const re = shellPatternRegex(pattern, greedy, false);
  const anchored = new RegExp(`^(?:${re.source})`, re.flags);
  const m = anchored.exec(value);
  return m ? value.slice(m[0].length) : value;
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // The shortest suffix: the match that starts last; the longest: the one that starts first.
  const re = new RegExp(`^(?:${shellPatternRegex(pattern, true, false).source})$`, "su");
  const chars = Array.from(value);
  if (greedy) {
    for (let start = 0; start <= chars.length; start++)
      if (re.test(chars.slice(start).join(""))) return chars.slice(0, start).join("");
  } else {
    for (let start = chars.length; start >= 0; start--)
      if (re.test(chars.slice(start).join(""))) return chars.slice(0, start).join("");
  }
  return value;
}
