/**
 * exec adapter's prefetch hook (issue 17): `prepareUpstreamNetwork` opens the soju step's exec
 * session ahead; the commands run only when `applyUpstreamNetwork` sends them, and a prepared
 * session that is not used runs nothing.
 */
import type { ObservedRequest } from "@irc-now/standins/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SojuUnavailable, type SojuAdmin } from "../src/index";
import { rejection, waitFor, World, type Bouncer } from "./helpers";

const world = new World();
const logs: string[] = [];
let admin: SojuAdmin;
let bouncer: Bouncer;

beforeAll(async () => {
  await world.start();
  bouncer = await world.bouncer("exec-prep");
  admin = world.admin("exec", logs);
});
afterAll(() => world.stop());

const execsOf = (requests: ObservedRequest[]) => requests.filter((r) => r.url.includes("/exec?"));

describe("exec adapter: the soju step's session opened ahead", () => {
  it("prepare opens the one session; the commands run only when applyUpstreamNetwork sends them", async () => {
    const user = "prepped";
    const password = "Prepped-pw-1";
    await world.ergo.registerAccount(user, password);
    await admin.createUser(bouncer.name, { username: user, disablePassword: true });
    const requests: ObservedRequest[] = [];
    const unsubscribe = world.kube.onRequest((r) => requests.push(r));
    const before = bouncer.execArgv.length;
    try {
      admin.prepareUpstreamNetwork!(bouncer.name);
      await waitFor(() => (execsOf(requests).length === 1 ? true : undefined), "the exec request");
      await new Promise((r) => setTimeout(r, 200));
      // Open, but nothing ran: the script waits for all of its stdin.
      expect(bouncer.execArgv.length).toBe(before);
      expect(
        await admin.applyUpstreamNetwork(
          bouncer.name,
          user,
          { name: "irc.now", addr: world.upstreamAddr, nick: user, username: user },
          { username: user, password },
        ),
      ).toBe("created");
    } finally {
      unsubscribe();
    }
    // Still one exec session in all (the prepared one), no password in its URL.
    expect(execsOf(requests)).toHaveLength(1);
    expect(decodeURIComponent(execsOf(requests)[0]!.url)).not.toContain(password);
    expect(bouncer.execArgv.slice(before).map((argv) => argv.slice(6, 8))).toEqual([
      ["network", "create"],
      ["sasl", "set-plain"],
      ["network", "update"],
    ]);
    expect(
      await waitFor(
        async () => ((await world.ergo.whoisAccount(user)) === user ? user : undefined),
        `ergo WHOIS ${user} logged in`,
      ),
    ).toBe(user);
    expect(logs.join("\n")).not.toContain(password);
  });

  it("a prepared session dropped unused (release) runs nothing; the next apply opens its own", async () => {
    const user = "dropped";
    const password = "Dropped-pw-1";
    await world.ergo.registerAccount(user, password);
    await admin.createUser(bouncer.name, { username: user, disablePassword: true });
    const requests: ObservedRequest[] = [];
    const unsubscribe = world.kube.onRequest((r) => requests.push(r));
    const before = bouncer.execArgv.length;
    try {
      admin.prepareUpstreamNetwork!(bouncer.name);
      await waitFor(() => (execsOf(requests).length === 1 ? true : undefined), "the exec request");
      await admin.release(bouncer.name);
      await new Promise((r) => setTimeout(r, 200));
      expect(bouncer.execArgv.length).toBe(before);
      await admin.applyUpstreamNetwork(
        bouncer.name,
        user,
        { name: "irc.now", addr: world.upstreamAddr, nick: user, username: user },
        { username: user, password },
      );
    } finally {
      unsubscribe();
    }
    expect(execsOf(requests)).toHaveLength(2);
    expect(bouncer.execArgv.slice(before)).toHaveLength(3);
  });

  it("a prepare that cannot open (no pod) is not an error; apply reports its own", async () => {
    admin.prepareUpstreamNetwork!("no-such-bouncer");
    const error = await rejection(
      admin.applyUpstreamNetwork(
        "no-such-bouncer",
        "nobody",
        { name: "irc.now", addr: world.upstreamAddr, nick: "nobody", username: "nobody" },
        { username: "nobody", password: "Nobody-pw-1" },
      ),
    );
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(String(error)).toMatch(/no running soju pod for bouncer no-such-bouncer/);
  });
});
