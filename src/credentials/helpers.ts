import { spawn } from "node:child_process";
import type { Credentials } from "./docker-config.js";
import { CredentialHelperError } from "./errors.js";

/**
 * Docker's credential helper protocol (docker-credential-helpers): a program named
 * `docker-credential-NAME` on PATH, called with one verb, reading its argument on stdin and
 * answering on stdout. A helper that has nothing for a server says so in these words.
 */
const NOT_FOUND = "credentials not found in native keychain";

/** The Username a helper stores for an identity token instead of a user name. */
const IDENTITY_TOKEN_USERNAME = "<token>";

interface HelperAnswer {
  code: number | null;
  stdout: string;
}

function callHelper(
  helper: string,
  verb: string,
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<HelperAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [verb], { stdio: ["pipe", "pipe", "inherit"], env });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === "ENOENT"
          ? `exec: "docker-credential-${helper}": executable file not found in $PATH`
          : err.message;
      reject(new CredentialHelperError(helper, verbWord(verb), reason));
    });
    child.on("close", (code) => resolve({ code, stdout }));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

function verbWord(verb: string): string {
  return verb === "get" ? "getting" : verb === "store" ? "storing" : "erasing";
}

function failure(helper: string, verb: string, answer: HelperAnswer): CredentialHelperError {
  return new CredentialHelperError(
    helper,
    verbWord(verb),
    `exit status ${answer.code}, out: \`${answer.stdout.trim()}\``,
  );
}

/** The helper's credentials for a server, or undefined when it has none. */
export async function helperGet(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const answer = await callHelper(helper, "get", serverUrl, env);
  if (answer.code !== 0) {
    if (answer.stdout.trim() === NOT_FOUND) return undefined;
    throw failure(helper, "get", answer);
  }
  let body: { Username?: unknown; Secret?: unknown };
  try {
    body = JSON.parse(answer.stdout) as typeof body;
  } catch {
    throw new CredentialHelperError(helper, "getting", "the helper's answer is not JSON");
  }
  const username = typeof body.Username === "string" ? body.Username : "";
  const secret = typeof body.Secret === "string" ? body.Secret : "";
  if (!username && !secret) return undefined;
  if (username === IDENTITY_TOKEN_USERNAME) return { username: "", password: "", identityToken: secret };
  return { username, password: secret };
}

export async function helperStore(
  helper: string,
  serverUrl: string,
  creds: Credentials,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const body = creds.identityToken
    ? { ServerURL: serverUrl, Username: IDENTITY_TOKEN_USERNAME, Secret: creds.identityToken }
    : { ServerURL: serverUrl, Username: creds.username, Secret: creds.password };
  const answer = await callHelper(helper, "store", JSON.stringify(body), env);
  if (answer.code !== 0) throw failure(helper, "store", answer);
}

/** Erases a server's credentials; returns false when the helper had none. */
export async function helperErase(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const answer = await callHelper(helper, "erase", serverUrl, env);
  if (answer.code === 0) return true;
  if (answer.stdout.trim() === NOT_FOUND) return false;
  throw failure(helper, "erase", answer);
}
