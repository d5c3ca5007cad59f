import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEnvFile, removeEnvFile, writeEnvFile } from "../src/env-file";

const dir = mkdtempSync(join(tmpdir(), "irc-now-env-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stack = {
  DATABASE_URL: "postgresql://postgres:p4ss@127.0.0.1:5555/accounts",
  KUBECONFIG: "/tmp/irc-now-dev-kube-x/config",
  ERGO_IRC_URL: "irc://127.0.0.1:6667",
  ERGO_OPER_NAME: "admin",
  ERGO_OPER_PASSWORD: "it's #secret",
  SOJU_ADMIN_SOCKET: "/tmp/soju/{name}/admin.sock",
  PATH: "/usr/bin",
  NEXT_TELEMETRY_DISABLED: "1",
};

describe(".env.dev", () => {
  it("carries the stack's configuration only, readable by its owner only", () => {
    const path = join(dir, "written");
    writeEnvFile(path, stack);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const env: Record<string, string | undefined> = {};
    expect(loadEnvFile(env, path)).toMatchObject({ used: true, pid: process.pid });
    const { PATH: _path, NEXT_TELEMETRY_DISABLED: _next, ...config } = stack;
    expect(env).toEqual(config);
  });

  it("keeps variables already set and is not used when the environment names another stack", () => {
    const path = join(dir, "override");
    writeEnvFile(path, stack);
    const env: Record<string, string | undefined> = { LOG_LEVEL: "debug", ERGO_OPER_NAME: "me" };
    loadEnvFile(env, path);
    expect(env).toMatchObject({ LOG_LEVEL: "debug", ERGO_OPER_NAME: "me" });

    const elsewhere: Record<string, string | undefined> = { DATABASE_URL: "postgres://db/x" };
    expect(loadEnvFile(elsewhere, path)).toMatchObject({ used: false, reason: "overridden" });
    expect(elsewhere).toEqual({ DATABASE_URL: "postgres://db/x" });
  });

  it("is ignored once the `npm run dev` that wrote it is gone", () => {
    const path = join(dir, "stale");
    writeEnvFile(path, stack);
    // A pid that cannot be running (above Linux's pid_max).
    writeFileSync(path, readFileSync(path, "utf8").replace(/^# pid=\d+$/m, "# pid=99999999"));
    const env: Record<string, string | undefined> = {};
    expect(loadEnvFile(env, path)).toMatchObject({ used: false, reason: "stale" });
    expect(env).toEqual({});
  });

  it("is removed on stop only by the process that wrote it", () => {
    const path = join(dir, "owned");
    writeEnvFile(path, stack);
    writeFileSync(path, readFileSync(path, "utf8").replace(/^# pid=\d+$/m, "# pid=1"));
    removeEnvFile(path);
    expect(loadEnvFile({}, path).used).toBe(true); // another stack's file stays
    writeEnvFile(path, stack);
    removeEnvFile(path);
    expect(loadEnvFile({}, path)).toMatchObject({ used: false, reason: "missing" });
  });
});
