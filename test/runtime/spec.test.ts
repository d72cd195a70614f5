import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerConfig } from "../../src/oci/manifest.js";
import { containerCommand, containerEnv, mergeEnv } from "../../src/runtime/spec.js";

describe("containerCommand: entrypoint and cmd as Docker composes them", () => {
  const cases: {
    name: string;
    image: ContainerConfig;
    cmd: string[];
    entrypoint?: string;
    want: string[] | "error";
  }[] = [
    { name: "image cmd", image: { Cmd: ["sh"] }, cmd: [], want: ["sh"] },
    { name: "flag args replace cmd", image: { Cmd: ["sh"] }, cmd: ["echo", "hi"], want: ["echo", "hi"] },
    {
      name: "entrypoint + cmd",
      image: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo x"] },
      cmd: [],
      want: ["/bin/sh", "-c", "echo x"],
    },
    {
      name: "entrypoint + args",
      image: { Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo x"] },
      cmd: ["id"],
      want: ["/bin/sh", "-c", "id"],
    },
    {
      name: "--entrypoint resets the image cmd",
      image: { Entrypoint: ["a"], Cmd: ["b"] },
      cmd: [],
      entrypoint: "env",
      want: ["env"],
    },
    {
      name: "--entrypoint with args",
      image: { Cmd: ["b"] },
      cmd: ["-0"],
      entrypoint: "env",
      want: ["env", "-0"],
    },
    {
      name: '--entrypoint "" clears it',
      image: { Entrypoint: ["a"], Cmd: ["b"] },
      cmd: ["ls"],
      entrypoint: "",
      want: ["ls"],
    },
    { name: "nothing to run", image: {}, cmd: [], want: "error" },
    { name: "null cmd", image: { Cmd: null, Entrypoint: null }, cmd: [], want: "error" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const flags = { cmd: c.cmd, entrypoint: c.entrypoint, env: [], tty: false };
      if (c.want === "error") assert.throws(() => containerCommand(c.image, flags), /No command specified/);
      else assert.deepEqual(containerCommand(c.image, flags), c.want);
    });
  }
});

describe("environment", () => {
  const cases: { name: string; base: string[]; overrides: string[]; want: string[] }[] = [
    {
      name: "replaces by key, appends new keys",
      base: ["A=1", "B=2"],
      overrides: ["B=3", "C=4"],
      want: ["A=1", "B=3", "C=4"],
    },
    { name: "a bare KEY removes it", base: ["A=1", "B=2"], overrides: ["A"], want: ["B=2"] },
    { name: "a bare KEY that is not there changes nothing", base: ["A=1"], overrides: ["Z"], want: ["A=1"] },
    { name: "only the first = splits", base: ["A=1"], overrides: ["A=x=y"], want: ["A=x=y"] },
    { name: "an empty value is a value", base: ["A=1"], overrides: ["A="], want: ["A="] },
    {
      name: "an appended key is replaced in place later",
      base: [],
      overrides: ["A=1", "B=1", "A=2"],
      want: ["A=2", "B=1"],
    },
    {
      name: "removed, then given again: appended at the end",
      base: ["A=1", "B=2"],
      overrides: ["A", "A=3"],
      want: ["B=2", "A=3"],
    },
    {
      name: "a key twice in the base: its first place is replaced or removed, then the next",
      base: ["A=1", "B=2", "A=3"],
      overrides: ["A=x", "A", "A=y"],
      want: ["B=2", "A=y"],
    },
    { name: "the base is not changed", base: ["A=1"], overrides: ["A=2", "B"], want: ["A=2"] },
  ];
  for (const c of cases) {
    it(`mergeEnv: ${c.name}`, () => {
      const base = [...c.base];
      assert.deepEqual(mergeEnv(base, c.overrides), c.want);
      assert.deepEqual(base, c.base);
    });
  }
  // Issue 15: `create --env-file` with 20,000 variables took 80 s, every entry searching the list
  // (the merge ran in quadratic time). The merge is linear now; quadratic code would not finish
  // within this test's timeout.
  it("mergeEnv of 20,000 entries over 20,000 (an --env-file that size) is done at once", {
    timeout: 30_000,
  }, () => {
    const n = 20_000;
    const base = Array.from({ length: n }, (_, i) => `IMG_${i}=${i}`);
    const overrides = Array.from({ length: n }, (_, i) =>
      i % 4 === 0 ? `IMG_${i}=new` : i % 4 === 1 ? `IMG_${i}` : `FILE_${i}=${i}`,
    );
    const merged = mergeEnv(base, overrides);
    assert.equal(merged.length, n - n / 4 + n / 2);
    assert.equal(merged[0], "IMG_0=new");
    assert.ok(!merged.includes("IMG_1=1"));
    assert.equal(merged[1], "IMG_2=2");
    assert.equal(merged.at(-1), `FILE_${n - 1}=${n - 1}`);
    assert.equal(new Set(merged.map((e) => e.split("=")[0])).size, merged.length);
  });
  it("PATH and HOSTNAME first, TERM with a tty, the image's then the flags' entries", () => {
    assert.deepEqual(
      containerEnv({ Env: ["PATH=/bin", "APP=1"] }, { env: ["APP=2", "X=y"], tty: true }, "h1"),
      ["PATH=/bin", "HOSTNAME=h1", "TERM=xterm", "APP=2", "X=y"],
    );
    assert.deepEqual(containerEnv({}, { env: [], tty: false }, "h2"), [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=h2",
    ]);
  });
});
