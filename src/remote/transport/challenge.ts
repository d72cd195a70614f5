/** One challenge of a WWW-Authenticate header: its scheme (lower case) and parameters (names lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** A challenge Berth can answer. */
export interface KnownChallenge extends Challenge {
  scheme: "basic" | "bearer";
}

// RFC 9110's tchar: what a scheme or a parameter name is made of.
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Every challenge of a WWW-Authenticate answer (RFC 9110 §11.6.1): a header may hold several
 * (`Basic realm="a", Bearer realm="b"`), a response may hold several headers, values are tokens
 * or quoted strings with backslash escapes, and commas inside quotes belong to the value
 * (`scope="repository:a:pull,push"`). Registries are not all strict, so an unquoted value runs
 * to the next comma or space (`realm=https://host/token`), and an unterminated quote ends the
 * header. Whatever cannot be read is skipped, never thrown: the caller decides what a missing
 * realm means.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) parseHeader(value, out);
  return out;
}

/** The challenge to answer: Bearer before Basic, as docker's client prefers; others are ignored. */
export function pickChallenge(header: string | string[] | undefined): KnownChallenge | undefined {
  const all = parseChallenges(header);
  const bearer = all.find((c) => c.scheme === "bearer");
  const basic = all.find((c) => c.scheme === "basic");
  return (bearer ?? basic) as KnownChallenge | undefined;
}

function parseHeader(s: string, out: Challenge[]): void {
  const n = s.length;
  let i = 0;
  const skipSpace = () => {
    while (i < n && (s[i] === " " || s[i] === "\t")) i++;
  };
  const skipSeparators = () => {
    while (i < n && (s[i] === "," || s[i] === " " || s[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  /** A quoted string after its opening quote, escapes undone; to the end if it is never closed. */
  const readQuoted = (): string => {
    let value = "";
    while (i < n) {
      const c = s[i++]!;
      if (c === '"') return value;
      value += c === "\\" && i < n ? s[i++]! : c;
    }
    return value;
  };
  /** Past what cannot be read, to the next list element (quoted commas do not count). */
  const skipElement = () => {
    while (i < n && s[i] !== ",") {
      if (s[i++] === '"') readQuoted();
    }
  };

  let challenge: Challenge | undefined;
  for (;;) {
    skipSeparators();
    if (i >= n) return;
    const name = readToken();
    if (!name) {
      skipElement();
      continue;
    }
    skipSpace();
    if (s[i] !== "=") {
      // A token on its own starts the next challenge (a scheme, perhaps with a token68 after it).
      challenge = { scheme: name.toLowerCase(), params: {} };
      out.push(challenge);
      continue;
    }
    i++;
    skipSpace();
    let value: string;
    if (s[i] === '"') {
      i++;
      value = readQuoted();
    } else {
      const from = i;
      while (i < n && s[i] !== "," && s[i] !== " " && s[i] !== "\t") i++;
      value = s.slice(from, i);
    }
    if (!challenge) continue; // a parameter before any scheme belongs to nothing
    const key = name.toLowerCase();
    // A repeated parameter is the server's mistake (RFC 9110); the first one counts.
    if (!(key in challenge.params)) challenge.params[key] = value;
  }
}
