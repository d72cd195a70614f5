import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type Challenge, parseChallenges, pickChallenge } from "../../../src/remote/transport/challenge.js";

const bearer = (params: Record<string, string>): Challenge => ({ scheme: "bearer", params });
const basic = (params: Record<string, string>): Challenge => ({ scheme: "basic", params });

describe("WWW-Authenticate challenges of real registries", () => {
  // [who sends it, the header as sent, what it means]
  const table: [string, string, Challenge[]][] = [
    [
      "Docker Hub, GET /v2/",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
      [bearer({ realm: "https://auth.docker.io/token", service: "registry.docker.io" })],
    ],
    [
      "Docker Hub, a manifest",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
      [
        bearer({
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/ubuntu:pull",
        }),
      ],
    ],
    [
      "the token spec's insufficient_scope (a comma inside the quoted scope)",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope"',
      [
        bearer({
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:samalba/my-app:pull,push",
          error: "insufficient_scope",
        }),
      ],
    ],
    [
      "GHCR",
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:oras-project/oras:pull"',
      [
        bearer({
          realm: "https://ghcr.io/token",
          service: "ghcr.io",
          scope: "repository:oras-project/oras:pull",
        }),
      ],
    ],
    [
      "Quay",
      'Bearer realm="https://quay.io/v2/auth",service="quay.io"',
      [bearer({ realm: "https://quay.io/v2/auth", service: "quay.io" })],
    ],
    [
      "GCR",
      'Bearer realm="https://gcr.io/v2/token",service="gcr.io",scope="repository:distroless/static:pull"',
      [
        bearer({
          realm: "https://gcr.io/v2/token",
          service: "gcr.io",
          scope: "repository:distroless/static:pull",
        }),
      ],
    ],
    [
      "Artifact Registry",
      'Bearer realm="https://us-central1-docker.pkg.dev/v2/token",service="us-central1-docker.pkg.dev"',
      [
        bearer({
          realm: "https://us-central1-docker.pkg.dev/v2/token",
          service: "us-central1-docker.pkg.dev",
        }),
      ],
    ],
    [
      "ECR (Basic, with a service)",
      'Basic realm="https://111111111111.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [
        basic({
          realm: "https://111111111111.dkr.ecr.us-east-1.amazonaws.com/",
          service: "ecr.amazonaws.com",
        }),
      ],
    ],
    [
      "Harbor",
      'Bearer realm="https://demo.goharbor.io/service/token",service="harbor-registry"',
      [bearer({ realm: "https://demo.goharbor.io/service/token", service: "harbor-registry" })],
    ],
    ["Harbor's catalog", 'Basic realm="harbor"', [basic({ realm: "harbor" })]],
    [
      "Azure Container Registry",
      'Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io"',
      [bearer({ realm: "https://myregistry.azurecr.io/oauth2/token", service: "myregistry.azurecr.io" })],
    ],
    [
      "GitLab",
      'Bearer realm="https://gitlab.com/jwt/auth",service="container_registry",scope="repository:group/project:pull"',
      [
        bearer({
          realm: "https://gitlab.com/jwt/auth",
          service: "container_registry",
          scope: "repository:group/project:pull",
        }),
      ],
    ],
    [
      "Nexus (upper-case scheme)",
      'BASIC realm="Sonatype Nexus Repository Manager"',
      [basic({ realm: "Sonatype Nexus Repository Manager" })],
    ],
    ["distribution, htpasswd", 'Basic realm="Registry Realm"', [basic({ realm: "Registry Realm" })]],
    [
      "distribution, a refused token",
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull",error="invalid_token"',
      [
        bearer({
          realm: "https://auth.example.com/token",
          service: "registry.example.com",
          scope: "repository:a/b:pull",
          error: "invalid_token",
        }),
      ],
    ],
    ["Berth, htpasswd", 'Basic realm="berth",charset="UTF-8"', [basic({ realm: "berth", charset: "UTF-8" })]],
    [
      "Berth, token mode, a mount (two scopes in one value)",
      'Bearer realm="http://127.0.0.1:5000/token",service="berth",scope="repository:team/app:pull,push repository:base/os:pull",error="insufficient_scope"',
      [
        bearer({
          realm: "http://127.0.0.1:5000/token",
          service: "berth",
          scope: "repository:team/app:pull,push repository:base/os:pull",
          error: "insufficient_scope",
        }),
      ],
    ],
  ];
  for (const [who, header, expected] of table) {
    test(who, () => assert.deepEqual(parseChallenges(header), expected));
  }
});

describe("odd quoting and odd servers", () => {
  const table: [string, string | string[] | undefined, Challenge[]][] = [
    ["no header", undefined, []],
    ["an empty header", "", []],
    [
      "escaped quotes and backslashes inside a value",
      String.raw`Bearer realm="https://a/token",service="say \"hi\" C:\\reg"`,
      [bearer({ realm: "https://a/token", service: 'say "hi" C:\\reg' })],
    ],
    [
      "unquoted values, URL included",
      "Bearer realm=https://gcr.io/v2/token,service=gcr.io",
      [bearer({ realm: "https://gcr.io/v2/token", service: "gcr.io" })],
    ],
    [
      "spaces around = and after commas, tabs",
      'Bearer  realm = "https://a/token" ,\tservice = "r" ,',
      [bearer({ realm: "https://a/token", service: "r" })],
    ],
    ["parameter names in any case", 'bEaReR Realm="x",SERVICE="y"', [bearer({ realm: "x", service: "y" })]],
    ["no comma between parameters", 'Bearer realm="x" service="y"', [bearer({ realm: "x", service: "y" })]],
    ["an empty value", 'Bearer realm="",service="s"', [bearer({ realm: "", service: "s" })]],
    ["a repeated parameter: the first counts", 'Basic realm="a",realm="b"', [basic({ realm: "a" })]],
    [
      "a quote never closed runs to the end",
      'Bearer realm="https://a/token',
      [bearer({ realm: "https://a/token" })],
    ],
    [
      "a quote never closed swallows what follows it, and nothing breaks",
      'Bearer realm="https://a/token,service="x"',
      [bearer({ realm: "https://a/token,service=" }), { scheme: "x", params: {} }],
    ],
    [
      "two challenges in one header",
      'Basic realm="b", Bearer realm="https://a/token",service="s"',
      [basic({ realm: "b" }), bearer({ realm: "https://a/token", service: "s" })],
    ],
    [
      "two headers",
      ['Basic realm="b"', 'Bearer realm="https://a/token"'],
      [basic({ realm: "b" }), bearer({ realm: "https://a/token" })],
    ],
    [
      "garbage before a challenge is skipped",
      '"oops", =x, Bearer realm="https://a/token"',
      [bearer({ realm: "https://a/token" })],
    ],
    ["a scheme alone", "Bearer", [bearer({})]],
  ];
  for (const [what, header, expected] of table) {
    test(what, () => assert.deepEqual(parseChallenges(header), expected));
  }

  test("a token68 scheme before a known one: the known one keeps its parameters", () => {
    const parsed = parseChallenges('Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==, Basic realm="r"');
    assert.equal(parsed[0]!.scheme, "negotiate");
    assert.deepEqual(parsed.at(-1), basic({ realm: "r" }));
  });

  test("a header of hostile length is read in one pass", () => {
    const long = `Bearer realm="${"\\".repeat(200_000)}`;
    assert.equal(parseChallenges(long)[0]!.params.realm!.length, 100_000);
    const commas = `${",".repeat(200_000)}Basic realm="r"`;
    assert.deepEqual(parseChallenges(commas), [basic({ realm: "r" })]);
  });
});

describe("which challenge is answered", () => {
  const table: [string, string | string[] | undefined, string | undefined][] = [
    ["Bearer before Basic, whatever the order", 'Basic realm="b", Bearer realm="t"', "bearer"],
    ["Bearer before Basic, across headers", ['Basic realm="b"', 'Bearer realm="t"'], "bearer"],
    ["Basic alone", 'Basic realm="b"', "basic"],
    ["schemes Berth cannot answer", 'Digest realm="d", nonce="n", Negotiate', undefined],
    ["nothing", undefined, undefined],
  ];
  for (const [what, header, scheme] of table) {
    test(what, () => assert.equal(pickChallenge(header)?.scheme, scheme));
  }
});

describe("properties", () => {
  const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,11}$/);
  const value = fc.string({
    maxLength: 30,
    unit: fc.constantFrom("a", "Z", "9", ",", " ", '"', "\\", "=", ":", "/"),
  });
  const quote = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const challenge = fc.record({
    scheme: token,
    params: fc.uniqueArray(fc.tuple(token, value), { selector: ([k]) => k.toLowerCase(), maxLength: 4 }),
  });

  test("a well-formed header reads back as it was written", () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 3 }), (challenges) => {
        const header = challenges
          .map((c) => `${c.scheme} ${c.params.map(([k, v]) => `${k}=${quote(v)}`).join(", ")}`)
          .join(", ");
        const expected = challenges.map((c) => ({
          scheme: c.scheme.toLowerCase(),
          params: Object.fromEntries(c.params.map(([k, v]) => [k.toLowerCase(), v])),
        }));
        assert.deepEqual(parseChallenges(header), expected);
      }),
      { numRuns: 300 },
    );
  });

  test("any string parses without throwing", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        parseChallenges(s);
        pickChallenge(s);
      }),
      { numRuns: 1000 },
    );
  });
});
