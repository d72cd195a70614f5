import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { Progress } from "../../src/build/progress.js";
import { plainPrinter, ttyPrinter } from "../../src/cli/build-progress.js";

function sink(): { out: Writable & { columns?: number; isTTY?: boolean }; text(): string } {
  let text = "";
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { out, text: () => text };
}

describe("build progress printers", () => {
  it("plain: BuildKit's numbered vertices, logs with their time, CACHED, DONE and ERROR", async () => {
    const { out, text } = sink();
    const p = new Progress(plainPrinter(out));
    const a = p.start("[1/3] FROM docker.io/library/busybox:1");
    a.cached();
    const b = p.start("[2/3] RUN echo hi");
    b.log("stdout", Buffer.from("hi\npart"));
    b.log("stdout", Buffer.from("ial\n"));
    b.done();
    const c = p.start("[3/3] RUN exit 3");
    c.fail('process "/bin/sh -c exit 3" did not complete successfully: exit code: 3');
    const lines = text().split("\n");
    assert.deepEqual(
      lines.map((l) => l.replace(/^(#\d+) \d+\.\d{3} /, "$1 T ").replace(/DONE \d+\.\ds$/, "DONE Ts")),
      [
        "",
        "#1 [1/3] FROM docker.io/library/busybox:1",
        "#1 CACHED",
        "",
        "#2 [2/3] RUN echo hi",
        "#2 T hi",
        "#2 T partial",
        "#2 DONE Ts",
        "",
        "#3 [3/3] RUN exit 3",
        '#3 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
        "",
      ],
    );
  });

  it("plain: a vertex that speaks again after another is named again", () => {
    const { out, text } = sink();
    const p = new Progress(plainPrinter(out));
    const a = p.start("[a 1/1] RUN one");
    const b = p.start("[b 1/1] RUN two");
    a.log("stdout", Buffer.from("from a\n"));
    b.done();
    a.done();
    assert.match(text(), /\n#2 \[b 1\/1\] RUN two\n\n#1 \[a 1\/1\] RUN one\n#1 \d\.\d{3} from a\n/);
  });

  it("tty: a header with the count and a line per vertex, with the last output of a running one", () => {
    const { out, text } = sink();
    out.columns = 80;
    const view = ttyPrinter(out as unknown as NodeJS.WriteStream);
    const p = new Progress(view.listener);
    p.start("[1/2] FROM busybox").cached();
    const run = p.start("[2/2] RUN make");
    run.log("stdout", Buffer.from("compiling\n"));
    view.finish();
    const last = text().split("\x1b[2K");
    assert.match(last.find((l) => l.startsWith("[+] Building"))!, /\(1\/2\)/);
    assert.ok(last.some((l) => l.startsWith(" => CACHED [1/2] FROM busybox")));
    assert.ok(last.some((l) => l.startsWith(" => [2/2] RUN make")));
    assert.ok(last.some((l) => l.startsWith(" => => # compiling")));
  });
});
