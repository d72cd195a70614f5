import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandStartError, RuntimeError } from "../../src/runtime/errors.js";
import { startFailure } from "../../src/runtime/start-errors.js";

describe("startFailure: a runtime's message as Docker's exit status", () => {
  const cases: { message: string; op?: "create" | "exec"; status: 125 | 126 | 127 }[] = [
    {
      message:
        'runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH',
      status: 127,
    },
    {
      message:
        'runc create failed: unable to start container process: exec: "/no/such": stat /no/such: no such file or directory',
      status: 127,
    },
    {
      message:
        'runc create failed: unable to start container process: exec: "/etc/passwd": permission denied',
      status: 126,
    },
    { message: 'unable to start container process: exec: "/bin": is a directory', op: "exec", status: 126 },
    { message: "executable file `nosuch` not found in $PATH: No such file or directory", status: 127 },
    { message: "runc create failed: invalid rootfs: stat /x/merged: no such file or directory", status: 125 },
    { message: "chdir /x/bundle: no such file or directory", status: 125 },
    { message: "runc create failed: unable to apply cgroup configuration: permission denied", status: 125 },
  ];
  for (const c of cases) {
    it(`${c.status}: ${c.message}`, () => {
      const err = startFailure(c.message, c.op);
      if (c.status === 125) assert.ok(err instanceof RuntimeError && !(err instanceof CommandStartError));
      else assert.ok(err instanceof CommandStartError && err.exitCode === c.status);
      assert.match(
        err.message,
        c.op === "exec" ? /^OCI runtime exec failed: / : /^failed to create task for container: /,
      );
    });
  }
});
