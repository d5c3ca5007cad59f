import { describe, expect, it } from "vitest";
import type { SojuBouncer } from "@irc-now/k8s";
import type { SaslStatus } from "@irc-now/soju";
import {
  defaultSetupSettings,
  waitForUpstreamLogin,
  type SetupSettings,
} from "../src/bouncers/setup";
import type { ErgoPort, SojuAdmin } from "../src/ports/index";

const settings = (over: Partial<SetupSettings> = {}): SetupSettings => ({
  ...defaultSetupSettings,
  upstreamAddr: "irc+insecure://ergo:6667",
  upstreamNetwork: "irc.now",
  ...over,
});

const bouncer = (username: string): SojuBouncer => ({
  apiVersion: "irc.now/v1alpha1",
  kind: "SojuBouncer",
  metadata: { name: `${username}-b`, namespace: "irc-now", uid: "u1", resourceVersion: "1" },
  spec: { username, plan: "free" },
});

/** A soju port whose `sasl status` turns authenticated at the `checks`-th look. */
function sojuLoggedInAfter(checks: number): SojuAdmin & { calls: number } {
  const soju = {
    calls: 0,
    async saslStatus(_b: string, user: string): Promise<SaslStatus> {
      soju.calls += 1;
      return {
        plainUsername: user,
        state:
          soju.calls >= checks
            ? { kind: "authenticated", account: user }
            : { kind: "disconnected" },
      };
    },
  };
  return soju as unknown as SojuAdmin & { calls: number };
}

const ergo: ErgoPort = {
  whois: async (nick) => nick,
  register: () => Promise.reject(new Error("not used")),
  resetPassword: () => Promise.reject(new Error("not used")),
  checkCredentials: () => Promise.reject(new Error("not used")),
};

describe("step 6: waiting for this bouncer's soju to report the login", () => {
  it("looks again soon, then backs off to verifyPollMs", async () => {
    const sleeps: number[] = [];
    const verdict = await waitForUpstreamLogin(
      {
        ergo,
        soju: sojuLoggedInAfter(7),
        settings: settings(),
        sleep: async (ms) => void sleeps.push(ms),
      },
      bouncer("alice"),
    );
    expect(verdict).toEqual({ state: "authenticated", account: "alice", detail: null });
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it("never polls faster than verifyPollMs allows", async () => {
    const sleeps: number[] = [];
    await waitForUpstreamLogin(
      {
        ergo,
        soju: sojuLoggedInAfter(3),
        settings: settings({ verifyFirstPollMs: 50, verifyPollMs: 20 }),
        sleep: async (ms) => void sleeps.push(ms),
      },
      bouncer("bob"),
    );
    expect(sleeps).toEqual([20, 20]);
  });

  it("returns the last verdict once verifyTimeoutMs has passed", async () => {
    const soju = sojuLoggedInAfter(Number.POSITIVE_INFINITY);
    const verdict = await waitForUpstreamLogin(
      { ergo, soju, settings: settings({ verifyTimeoutMs: 0 }), sleep: async () => undefined },
      bouncer("carol"),
    );
    expect(verdict.state).toBe("disconnected");
    expect(soju.calls).toBe(1);
  });

  it("a soju logged in as another account is not this user's login", async () => {
    const soju = {
      saslStatus: async () => ({
        plainUsername: "dave",
        state: { kind: "authenticated", account: "mallory" },
      }),
    } as unknown as SojuAdmin;
    const verdict = await waitForUpstreamLogin(
      { ergo, soju, settings: settings({ verifyTimeoutMs: 0 }), sleep: async () => undefined },
      bouncer("dave"),
    );
    expect(verdict).toMatchObject({ state: "unauthenticated", account: "mallory" });
  });

  it("soju authenticated but ergo shows nobody logged in as the nick: unknown, not authenticated", async () => {
    const verdict = await waitForUpstreamLogin(
      {
        ergo: { ...ergo, whois: async () => null },
        soju: sojuLoggedInAfter(1),
        settings: settings({ verifyTimeoutMs: 0 }),
        sleep: async () => undefined,
      },
      bouncer("erin"),
    );
    expect(verdict.state).toBe("unknown");
  });
});
