import { describe, expect, it } from "vitest";
import {
  ConfigError,
  authEnv,
  dbEnv,
  ergoEnv,
  kubeEnv,
  loadConfig,
  logEnv,
  sojuEnv,
  stripeEnv,
  upstreamEnv,
  workerEnv,
} from "../src/index";

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const validWorkerEnv = {
  DATABASE_URL: "postgres://portal:pw-db-secret@127.0.0.1:5432/accounts",
  ERGO_IRC_URL: "ircs://ergo.irc-now.svc:6697",
  ERGO_OPER_NAME: "portal",
  ERGO_OPER_PASSWORD: "oper-secret-123",
};

describe("loadConfig", () => {
  it("parses a valid environment and applies DESIGN.md defaults", () => {
    const cfg = loadConfig(
      [dbEnv, kubeEnv, ergoEnv, sojuEnv, upstreamEnv, workerEnv, logEnv],
      validWorkerEnv,
    );
    expect(cfg.DATABASE_URL).toBe(validWorkerEnv.DATABASE_URL);
    expect(cfg.K8S_NAMESPACE).toBe("irc-now");
    expect(cfg.ERGO_ADMIN_NICK).toBe("irc-now-admin");
    expect(cfg.SOJU_ADMIN).toBe("exec");
    expect(cfg.SOJU_POD_SELECTOR).toBe("irc.now/bouncer={name}");
    expect(cfg.SOJU_CONTAINER).toBe("soju");
    expect(cfg.SOJU_CONFIG_PATH).toBe("/etc/soju/config");
    expect(cfg.SOJU_UPSTREAM_ADDR).toBe("irc+insecure://irc-now-net:6667");
    expect(cfg.SOJU_UPSTREAM_NETWORK).toBe("irc.now");
    expect(cfg.WORKER_PORT).toBe(9464);
    expect(cfg.WORKER_HOST).toBe("0.0.0.0");
    expect(cfg.VERIFY_INTERVAL_S).toBe(300);
    expect(cfg.LEADER_ELECTION).toBe(true);
    expect(cfg.LEASE_NAME).toBe("irc-now-worker");
    expect(cfg.LOG_LEVEL).toBe("info");
  });

  it("coerces numbers and booleans from strings", () => {
    const cfg = loadConfig([workerEnv], {
      WORKER_PORT: "9100",
      LEADER_ELECTION: "false",
      VERIFY_INTERVAL_S: "30",
    });
    expect(cfg).toMatchObject({ WORKER_PORT: 9100, LEADER_ELECTION: false, VERIFY_INTERVAL_S: 30 });
  });

  it("takes the worker's listen address from WORKER_HOST (loopback in npm run dev)", () => {
    for (const host of ["127.0.0.1", "::1", "::", "localhost", "worker.irc-now.svc"])
      expect(loadConfig([workerEnv], { WORKER_HOST: host }).WORKER_HOST).toBe(host);
  });

  it("treats empty strings as unset", () => {
    const cfg = loadConfig([kubeEnv], { K8S_NAMESPACE: "", KUBECONFIG: "  " });
    expect(cfg.K8S_NAMESPACE).toBe("irc-now");
    expect(cfg.KUBECONFIG).toBeUndefined();
  });

  it("names every missing variable in one error", () => {
    const error = problemsOf(() => loadConfig([dbEnv, authEnv], {}));
    const names = error.problems.map((p) => p.variable).sort();
    expect(names).toEqual(
      [
        "AUTH_SECRET",
        "AUTH_URL",
        "DATABASE_URL",
        "KEYCLOAK_CLIENT_ID",
        "KEYCLOAK_CLIENT_SECRET",
        "KEYCLOAK_ISSUER",
      ].sort(),
    );
    for (const name of names) expect(error.message).toContain(`${name}: is required but not set`);
  });

  it.each([
    ["DATABASE_URL", { DATABASE_URL: "mysql://x@y/z" }, dbEnv, /PostgreSQL URL/],
    ["WORKER_PORT", { WORKER_PORT: "70000" }, workerEnv, /between 1 and 65535/],
    ["WORKER_PORT", { WORKER_PORT: "http" }, workerEnv, /port number/],
    ["WORKER_HOST", { WORKER_HOST: "127.0.0.1:9464" }, workerEnv, /IP address or a host name/],
    ["WORKER_HOST", { WORKER_HOST: "http://0.0.0.0" }, workerEnv, /IP address or a host name/],
    ["VERIFY_INTERVAL_S", { VERIFY_INTERVAL_S: "0" }, workerEnv, /at least 1/],
    ["LEADER_ELECTION", { LEADER_ELECTION: "maybe" }, workerEnv, /true or false/],
    ["K8S_NAMESPACE", { K8S_NAMESPACE: "Irc_Now" }, kubeEnv, /DNS-1123/],
    ["SOJU_ADMIN", { SOJU_ADMIN: "ssh" }, sojuEnv, /exec, socket or sql-restart/],
    ["SOJU_ADMIN_SOCKET", { SOJU_ADMIN: "socket" }, sojuEnv, /required when SOJU_ADMIN=socket/],
    [
      "SOJU_UPSTREAM_ADDR",
      { SOJU_UPSTREAM_ADDR: "irc://ergo:6667" },
      upstreamEnv,
      /soju rejects irc:\/\//,
    ],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }, logEnv, /must be one of/],
    [
      "STRIPE_SECRET_KEY",
      {
        STRIPE_SECRET_KEY: "pk_test_abc",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_PRICE_PRO: "price_1",
      },
      stripeEnv,
      /Stripe secret key/,
    ],
  ] as const)("reports a bad %s with the reason", (variable, env, area, reason) => {
    const error = problemsOf(() => loadConfig([area], env));
    const problem = error.problems.find((p) => p.variable === variable);
    expect(problem?.message).toMatch(reason);
  });

  it("refuses an http:// Keycloak issuer unless it runs on this machine; reads the role refresh interval", () => {
    const auth = {
      AUTH_SECRET: "a".repeat(32),
      AUTH_URL: "https://portal.example",
      KEYCLOAK_CLIENT_ID: "account-portal",
      KEYCLOAK_CLIENT_SECRET: "secret",
    };
    const issuerProblem = (issuer: string) =>
      problemsOf(() => loadConfig([authEnv], { ...auth, KEYCLOAK_ISSUER: issuer })).problems;
    for (const issuer of [
      "http://kc.example/realms/irc-now",
      "http://10.0.0.5:8080/realms/irc-now",
      "http://127.0.0.1.evil.example/realms/irc-now",
    ]) {
      expect(issuerProblem(issuer)).toEqual([
        {
          variable: "KEYCLOAK_ISSUER",
          message:
            "must use https:// (http:// only for a Keycloak on this machine: localhost, 127.0.0.0/8, ::1)",
        },
      ]);
    }
    for (const issuer of [
      "https://kc.example/realms/irc-now",
      "http://127.0.0.1:8180/realms/irc-now",
      "http://localhost:8180/realms/irc-now",
      "http://[::1]:8180/realms/irc-now",
    ]) {
      const cfg = loadConfig([authEnv], { ...auth, KEYCLOAK_ISSUER: issuer });
      expect(cfg.KEYCLOAK_ISSUER).toBe(issuer);
      expect(cfg.AUTH_ROLE_REFRESH_S).toBe(300);
    }
    expect(
      loadConfig([authEnv], {
        ...auth,
        KEYCLOAK_ISSUER: "https://kc.example/realms/irc-now",
        AUTH_ROLE_REFRESH_S: "5",
      }).AUTH_ROLE_REFRESH_S,
    ).toBe(5);
  });

  it("requires either the ergo HTTP API or a complete oper session", () => {
    const none = problemsOf(() => loadConfig([ergoEnv], {}));
    expect(none.problems.map((p) => p.variable).sort()).toEqual([
      "ERGO_IRC_URL",
      "ERGO_OPER_NAME",
      "ERGO_OPER_PASSWORD",
    ]);
    const apiWithoutToken = problemsOf(() =>
      loadConfig([ergoEnv], { ERGO_API_URL: "http://127.0.0.1:8089" }),
    );
    expect(apiWithoutToken.problems).toEqual([
      { variable: "ERGO_API_TOKEN", message: "is required when ERGO_API_URL is set" },
    ]);
    const api = loadConfig([ergoEnv], {
      ERGO_API_URL: "http://127.0.0.1:8089",
      ERGO_API_TOKEN: "tok",
    });
    expect(api.ERGO_API_URL).toBe("http://127.0.0.1:8089");
    const badNick = problemsOf(() =>
      loadConfig([ergoEnv], { ...validWorkerEnv, ERGO_ADMIN_NICK: "1bad nick" }),
    );
    expect(badNick.problems[0]?.variable).toBe("ERGO_ADMIN_NICK");
  });

  it("never puts a secret value into the error message", () => {
    const secrets = {
      DATABASE_URL: "mysql://root:db-very-secret@db/x",
      AUTH_SECRET: "short-auth-secret",
      AUTH_URL: "not a url",
      KEYCLOAK_ISSUER: "https://kc/realms/irc-now",
      KEYCLOAK_CLIENT_ID: "account-portal",
      KEYCLOAK_CLIENT_SECRET: "kc-client-secret-value",
      STRIPE_SECRET_KEY: "sk_nope_stripe-secret",
      STRIPE_WEBHOOK_SECRET: "whsec",
      STRIPE_PRICE_PRO: "price_pro",
    };
    const error = problemsOf(() => loadConfig([dbEnv, authEnv, stripeEnv], secrets));
    expect(error.problems.map((p) => p.variable).sort()).toEqual(
      [
        "AUTH_SECRET",
        "AUTH_URL",
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
      ].sort(),
    );
    for (const value of [
      "db-very-secret",
      "short-auth-secret",
      "kc-client-secret-value",
      "stripe-secret",
      "sk_nope",
    ]) {
      expect(error.message).not.toContain(value);
      expect(JSON.stringify(error.problems)).not.toContain(value);
    }
  });
});
