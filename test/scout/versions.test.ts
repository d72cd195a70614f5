import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { VersionParseError } from "../../src/scout/errors.js";
import { compareVersions, type VersionScheme } from "../../src/scout/versions/index.js";

/** Each list is strictly increasing; `=` pairs compare equal. Taken from each scheme's specification. */
const ORDERED: Record<VersionScheme, string[][]> = {
  Debian: [
    // Policy 5.6.12: "~~, ~~a, ~, the empty part, a"
    ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"],
    ["1.0~rc1", "1.0", "1.0-1", "1.0-1+deb12u1", "1.0-2", "1.0+dfsg", "1.0.0", "1.1", "1:0.1"],
    ["2.36-9+deb12u3", "2.36-9+deb12u4", "2.36-10", "2.37"],
    ["1.0a", "1.0+"], // letters sort before non-letters
    ["7.6-0", "7.6p2-4"],
    ["0.9", "0.10", "0.100"],
    ["3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "3.0.11-1", "3.0.13-1~deb12u1"],
  ],
  Alpine: [
    [
      "1.0_alpha",
      "1.0_alpha1",
      "1.0_alpha2",
      "1.0_beta",
      "1.0_pre",
      "1.0_rc1",
      "1.0",
      "1.0_cvs",
      "1.0_git1",
      "1.0_p1",
    ],
    ["1.0", "1.0-r1", "1.0-r10", "1.0a", "1.0b", "1.0.1"],
    ["1.001", "1.01", "1.1", "1.2", "1.10"],
    ["0.1.9", "0.1.10", "2.34-r1", "2.34-r2"],
    ["1.2_pre2", "1.2", "1.3_rc1", "1.3"],
    ["3.1.1-r0", "3.1.1-r1", "3.1.2-r0"],
  ],
  PyPI: [
    // PEP 440's "summary of permitted suffixes and relative ordering"
    [
      "1.0.dev456",
      "1.0a1",
      "1.0a2.dev456",
      "1.0a12.dev456",
      "1.0a12",
      "1.0b1.dev456",
      "1.0b2",
      "1.0b2.post345.dev456",
      "1.0b2.post345",
      "1.0rc1.dev456",
      "1.0rc1",
      "1.0",
      "1.0+abc.5",
      "1.0+abc.7",
      "1.0+5",
      "1.0.post456.dev34",
      "1.0.post456",
      "1.0.15",
      "1.1.dev1",
    ],
    ["2.0", "2.10", "1!1.0"],
  ],
  npm: [
    // SemVer 2.0.0 section 11
    [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "2.0.0",
      "2.1.0",
      "2.1.1",
    ],
  ],
  Go: [["v0.0.0-20200101000000-abcdefabcdef", "v0.1.0", "v1.2.3", "v1.10.0", "v2.0.0+incompatible"]],
  semver: [],
  Maven: [
    // Maven's ComparableVersionTest (3.8, before MNG-7644 made 2.0.X equal 2-X): qualifiers, then numbers
    [
      "1-alpha2snapshot",
      "1-alpha2",
      "1-alpha-123",
      "1-beta-2",
      "1-beta123",
      "1-m2",
      "1-m11",
      "1-rc",
      "1-cr2",
      "1-rc123",
      "1-SNAPSHOT",
      "1",
      "1-sp",
      "1-sp2",
      "1-sp123",
      "1-abc",
      "1-def",
      "1-pom-1",
      "1-1-snapshot",
      "1-1",
      "1-2",
      "1-123",
    ],
    [
      "2.0",
      "2-1",
      "2.0.a",
      "2.0.0.a",
      "2.0.2",
      "2.0.123",
      "2.1.0",
      "2.1-a",
      "2.1b",
      "2.1-c",
      "2.1-1",
      "2.1.0.1",
      "2.2",
      "2.123",
    ],
    ["11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"],
  ],
};

const EQUAL: Record<VersionScheme, [string, string][]> = {
  Debian: [
    ["1.0", "1.00"],
    ["0:1.0-1", "1.0-1"],
    ["1.2.3", "01.2.3"],
  ],
  Alpine: [["1.0", "1.0-r0"]],
  PyPI: [
    ["1.0", "1.0.0"],
    ["1.0a1", "1.0ALPHA1"],
    ["1.0-1", "1.0.post1"],
    ["1.0c1", "1.0rc1"],
    ["v1.0", "1.0"],
    ["1.0.dev", "1.0.dev0"],
  ],
  npm: [["1.0.0+build.1", "1.0.0+other"]],
  Go: [["v1.2.3", "1.2.3"]],
  semver: [],
  Maven: [
    ["1", "1.0"],
    ["1", "1.0.0"],
    ["1", "1-ga"],
    ["1", "1-final"],
    ["1", "1-release"],
    ["1a1", "1-alpha-1"],
    ["1-cr1", "1-rc1"],
    ["1-SNAPSHOT", "1-snapshot"],
  ],
};

const INVALID: Record<VersionScheme, string[]> = {
  Debian: ["", "a:1.0", "1.0 beta", "1.0-", "1.0-a b"],
  Alpine: ["", "a1.0", "1.0-r", "1.0_gamma", "1.0-1"],
  PyPI: ["", "1.0-beta-x", "french toast", "1.0+"],
  npm: ["", "1.0", "01.0.0", "1.0.0-", "1.0.0-01"],
  Go: ["1.2", "vv1.2.3"],
  semver: [],
  Maven: ["", "1 0", "1.0!"],
};

describe("version orders", () => {
  for (const scheme of Object.keys(ORDERED) as VersionScheme[]) {
    it(`${scheme}: the specification's orderings`, () => {
      for (const list of ORDERED[scheme]) {
        for (let i = 0; i < list.length; i++) {
          for (let j = 0; j < list.length; j++) {
            const got = Math.sign(compareVersions(scheme, list[i]!, list[j]!));
            assert.equal(got, Math.sign(i - j), `${scheme}: ${list[i]} vs ${list[j]}`);
          }
        }
      }
    });
    it(`${scheme}: equal spellings`, () => {
      for (const [a, b] of EQUAL[scheme]) {
        assert.equal(compareVersions(scheme, a, b), 0, `${a} == ${b}`);
        assert.equal(compareVersions(scheme, b, a), 0, `${b} == ${a}`);
      }
    });
    it(`${scheme}: versions that do not parse are refused`, () => {
      for (const bad of INVALID[scheme]) {
        assert.throws(
          () => compareVersions(scheme, bad, "1.0.0"),
          VersionParseError,
          `${scheme}: ${JSON.stringify(bad)}`,
        );
      }
    });
  }
});

const digits = fc.stringMatching(/^(0|[1-9][0-9]{0,3})$/);
const GENERATORS: Record<string, [VersionScheme, fc.Arbitrary<string>]> = {
  Debian: [
    "Debian",
    fc
      .tuple(
        fc.option(fc.integer({ min: 0, max: 3 })),
        fc.stringMatching(/^[0-9][0-9a-z.+~]{0,6}$/),
        fc.option(fc.stringMatching(/^[0-9a-z.+~]{1,5}$/)),
      )
      .map(([e, u, r]) => `${e === null ? "" : `${e}:`}${u}${r === null ? "" : `-${r}`}`),
  ],
  Alpine: [
    "Alpine",
    fc
      .tuple(
        fc.array(fc.stringMatching(/^[0-9]{1,3}$/), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("", "a", "b"),
        fc.array(
          fc.tuple(
            fc.constantFrom("alpha", "beta", "pre", "rc", "git", "p"),
            fc.constantFrom("", "1", "2", "10"),
          ),
          {
            maxLength: 2,
          },
        ),
        fc.option(fc.integer({ min: 0, max: 12 })),
      )
      .map(
        ([n, l, s, r]) =>
          `${n.join(".")}${l}${s.map(([x, y]) => `_${x}${y}`).join("")}${r === null ? "" : `-r${r}`}`,
      ),
  ],
  PyPI: [
    "PyPI",
    fc
      .tuple(
        fc.option(fc.constantFrom("1!", "2!")),
        fc.array(digits, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("", "a1", "b2", "rc1", "a0"),
        fc.constantFrom("", ".post1", ".post0", "-2"),
        fc.constantFrom("", ".dev0", ".dev3"),
        fc.constantFrom("", "+abc.1", "+1", "+abc"),
      )
      .map(([e, r, pre, post, dev, local]) => `${e ?? ""}${r.join(".")}${pre}${post}${dev}${local}`),
  ],
  semver: [
    "npm",
    fc
      .tuple(
        fc.array(digits, { minLength: 3, maxLength: 3 }),
        fc.array(fc.oneof(digits, fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/)), { maxLength: 3 }),
      )
      .map(([core, pre]) => `${core.join(".")}${pre.length ? `-${pre.join(".")}` : ""}`),
  ],
  // Versions that start with a letter are left out: Maven's own order is not transitive for them
  // ("0" > "0a0" > "a" > "0").
  Maven: ["Maven", fc.stringMatching(/^[0-9]{1,3}([.-]?[0-9a-z]{1,4}){0,4}$/)],
};

describe("version orders: properties", () => {
  for (const [label, [scheme, gen]] of Object.entries(GENERATORS)) {
    it(`${label}: antisymmetric and reflexive`, () => {
      fc.assert(
        fc.property(gen, gen, (a, b) => {
          assert.equal(compareVersions(scheme, a, a), 0);
          assert.equal(
            Math.sign(compareVersions(scheme, a, b)) + Math.sign(compareVersions(scheme, b, a)),
            0,
          );
        }),
        { numRuns: 2000 },
      );
    });
    it(`${label}: transitive`, () => {
      fc.assert(
        fc.property(gen, gen, gen, (a, b, c) => {
          const [x, y, z] = [a, b, c].sort((p, q) => compareVersions(scheme, p, q));
          assert.ok(compareVersions(scheme, x!, z!) <= 0, `${x} <= ${y} <= ${z} but ${x} > ${z}`);
          if (compareVersions(scheme, x!, y!) === 0 && compareVersions(scheme, y!, z!) === 0)
            assert.equal(compareVersions(scheme, x!, z!), 0);
        }),
        { numRuns: 2000 },
      );
    });
  }
});
