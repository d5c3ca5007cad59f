import { describe, expect, it } from "vitest";
import {
  defaultSetupSettings,
  waitForUpstreamLogin,
  type SetupSettings,
} from "../src/bouncers/setup";
import type { ErgoPort } from "../src/ports/index";

const settings = (over: Partial<SetupSettings> = {}): SetupSettings => ({
  ...defaultSetupSettings,
  upstreamAddr: "irc+insecure://ergo:6667",
  upstreamNetwork: "irc.now",
  ...over,
});

function ergoShowingLoginAfter(checks: number): ErgoPort & { calls: number } {
  return {
    calls: 0,
    async whois(nick) {
      this.calls += 1;
      return this.calls >= checks ? nick : null;
    },
    ensureAccount: () => Promise.reject(new Error("not used")),
    checkCredentials: () => Promise.reject(new Error("not used")),
  };
}

describe("step 6: waiting for ergo to show the login", () => {
  it("looks again soon, then backs off to verifyPollMs", async () => {
    const sleeps: number[] = [];
    const ergo = ergoShowingLoginAfter(7);
    const account = await waitForUpstreamLogin(
      { ergo, settings: settings(), sleep: async (ms) => void sleeps.push(ms) },
      "alice",
    );
    expect(account).toBe("alice");
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it("never polls faster than verifyPollMs allows", async () => {
    const sleeps: number[] = [];
    await waitForUpstreamLogin(
      {
        ergo: ergoShowingLoginAfter(3),
        settings: settings({ verifyFirstPollMs: 50, verifyPollMs: 20 }),
        sleep: async (ms) => void sleeps.push(ms),
      },
      "bob",
    );
    expect(sleeps).toEqual([20, 20]);
  });

  it("returns what ergo last showed once verifyTimeoutMs has passed", async () => {
    const ergo = ergoShowingLoginAfter(Number.POSITIVE_INFINITY);
    const account = await waitForUpstreamLogin(
      { ergo, settings: settings({ verifyTimeoutMs: 0 }), sleep: async () => undefined },
      "carol",
    );
    expect(account).toBeNull();
    expect(ergo.calls).toBe(1);
  });
});
