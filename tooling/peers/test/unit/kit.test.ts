import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { TestProject } from "vitest/node";
import { peersGlobalSetup, sweepStateRoot } from "../../src/global-setup";
import { parseLine } from "../../src/irc";
import {
  parseFacts,
  peersKitAvailable,
  peersKitDir,
  realPeersRequested,
  REPO_ROOT,
} from "../../src/kit";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the peers kit", () => {
  it("is ../shared/peers next to the repository, or PEERS_KIT (relative to the repository)", () => {
    expect(peersKitDir({})).toBe(resolve(REPO_ROOT, "../shared/peers"));
    expect(peersKitDir({ PEERS_KIT: "/opt/kit" })).toBe("/opt/kit");
    expect(peersKitDir({ PEERS_KIT: "vendor/kit" })).toBe(resolve(REPO_ROOT, "vendor/kit"));
  });

  it("is available only with all four scripts", () => {
    const kit = mkdtempSync(join(tmpdir(), "peers-kit-"));
    dirs.push(kit);
    for (const s of ["ergo.sh", "soju.sh", "sojuctl.sh"]) writeFileSync(join(kit, s), "");
    expect(peersKitAvailable({ PEERS_KIT: kit })).toBe(false);
    writeFileSync(join(kit, "kube.sh"), "");
    expect(peersKitAvailable({ PEERS_KIT: kit })).toBe(true);
  });

  it("reads the facts line", () => {
    expect(parseFacts("ERGO_PORT=26667 ERGO_IRC_URL=irc://127.0.0.1:26667 PID=42\n")).toEqual({
      ERGO_PORT: "26667",
      ERGO_IRC_URL: "irc://127.0.0.1:26667",
      PID: "42",
    });
    expect(() => parseFacts("oops")).toThrow(/KEY=VALUE/);
  });

  it("is asked for by REAL_PEERS=1 only", () => {
    expect(realPeersRequested({ REAL_PEERS: "1" })).toBe(true);
    expect(realPeersRequested({ REAL_PEERS: "true" })).toBe(false);
    expect(realPeersRequested({})).toBe(false);
  });
});

describe("the Vitest globalSetup", () => {
  it("starts nothing and provides null without REAL_PEERS=1", async () => {
    const provided: Record<string, unknown> = {};
    const project = {
      provide: (key: string, value: unknown) => {
        provided[key] = value;
      },
    } as unknown as TestProject;
    const before = process.env.REAL_PEERS;
    delete process.env.REAL_PEERS;
    try {
      await expect(peersGlobalSetup({ ergo: true, kube: true })(project)).resolves.toBeUndefined();
    } finally {
      if (before !== undefined) process.env.REAL_PEERS = before;
    }
    expect(provided).toEqual({ peers: null });
  });

  it("sweeping a state root without pid files does nothing", () => {
    const root = mkdtempSync(join(tmpdir(), "peers-root-"));
    dirs.push(root);
    mkdirSync(join(root, "a", "b"), { recursive: true });
    writeFileSync(join(root, "a", "b", "notes.txt"), "x");
    expect(() => sweepStateRoot(root)).not.toThrow();
    expect(() => sweepStateRoot(join(root, "missing"))).not.toThrow();
  });
});

describe("the IRC line parser of the probes", () => {
  it("reads prefix, command, middle and trailing parameters", () => {
    expect(parseLine(":ergo.test 330 me alice alice :is logged in as")).toEqual({
      raw: ":ergo.test 330 me alice alice :is logged in as",
      source: "ergo.test",
      command: "330",
      params: ["me", "alice", "alice", "is logged in as"],
    });
    expect(
      parseLine("@time=x :NickServ!NickServ@localhost NOTICE me :Password changed"),
    ).toMatchObject({ source: "NickServ", command: "NOTICE", params: ["me", "Password changed"] });
    expect(parseLine("AUTHENTICATE +")).toMatchObject({ command: "AUTHENTICATE", params: ["+"] });
  });
});
