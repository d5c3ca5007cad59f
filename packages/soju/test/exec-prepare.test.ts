/**
 * exec adapter's sessions beyond one command (issue 17): `prepareUpstreamNetwork` opens the soju
 * step's exec session ahead; the commands run only when `applyUpstreamNetwork` sends them, and a
 * prepared session that is not used runs nothing. A sequence that succeeded leaves its session
 * open for KEPT_IDLE_MS: the next command on that bouncer (step 6's `sasl status`) rides it.
 */
import type { ObservedRequest } from "@irc-now/standins/kube";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KEPT_IDLE_MS, SojuCommandFailed, SojuUnavailable, type SojuAdmin } from "../src/index";
import { NS, rejection, waitFor, World, type Bouncer } from "./helpers";

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
        await admin.applyUpstreamNetwork(bouncer.name, user, world.ircNow(user), {
          username: user,
          password,
        }),
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
    await admin.release(bouncer.name); // none kept from the test before
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
      await admin.applyUpstreamNetwork(bouncer.name, user, world.ircNow(user), {
        username: user,
        password,
      });
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

describe("exec adapter: a sequence's session kept for the next command", () => {
  let unsubscribe: () => void = () => undefined;
  afterEach(() => unsubscribe());

  /** Sets up `user` on a bouncer of its own, with no session kept; counts its exec requests from then. */
  async function applied(user: string) {
    const b = await world.bouncer(`kept-${user}`);
    const password = `${user}-Pw-1`;
    await world.ergo.registerAccount(user, password);
    await admin.createUser(b.name, { username: user, disablePassword: true });
    const requests: ObservedRequest[] = [];
    unsubscribe = world.kube.onRequest((r) => requests.push(r));
    await admin.applyUpstreamNetwork(b.name, user, world.ircNow(user), {
      username: user,
      password,
    });
    return { b, password, execs: () => execsOf(requests).length };
  }

  it("step 6's sasl status polls ride the setup's own session: one exec in all, soju's real state read", async () => {
    const t = await applied("kept");
    // Polled as step 6 does (well inside the idle time each), until soju has logged in.
    const status = await waitFor(async () => {
      const s = await admin.saslStatus(t.b.name, "kept", "irc.now");
      if (s.state.kind === "authenticated") return s;
      await new Promise((r) => setTimeout(r, 50));
      return undefined;
    }, "soju's SASL login");
    expect(status).toEqual({
      plainUsername: "kept",
      state: { kind: "authenticated", account: "kept" },
    });
    expect(t.execs()).toBe(1);
    expect(t.b.execArgv.map((argv) => argv.slice(6, 8)).at(-1)).toEqual(["sasl", "status"]);
  });

  /** No exec session open anywhere (those kept by earlier tests have ended). */
  const quiet = () =>
    waitFor(
      () => (world.kube.activeExecSessions === 0 ? true : undefined),
      "no exec session open",
      KEPT_IDLE_MS + 5_000,
    );

  it("it ends by itself after KEPT_IDLE_MS of quiet; the next command opens its own", async () => {
    await quiet();
    const t = await applied("idle");
    const kept = Date.now();
    expect(world.kube.activeExecSessions).toBe(1);
    await quiet();
    expect(Date.now() - kept).toBeGreaterThanOrEqual(KEPT_IDLE_MS - 50);
    await admin.networkStatus(t.b.name, "idle");
    expect(t.execs()).toBe(2);
  });

  it("a command soju refuses on a kept session is its typed error, and ends the session: the next opens its own", async () => {
    const t = await applied("refused");
    const error = await rejection(
      admin.userRun(t.b.name, "refused", ["sasl", "status", "-network", "no-such-net"]),
    );
    expect(error).toBeInstanceOf(SojuCommandFailed);
    expect(t.execs()).toBe(1);
    expect((await admin.networkStatus(t.b.name, "refused")).map((n) => n.name)).toEqual([
      "irc.now",
    ]);
    expect(t.execs()).toBe(2);
  });

  it("a kept session whose pod was deleted is not used: the command runs on the new pod", async () => {
    const t = await applied("podgone");
    const [old] = t.b.podNames();
    await world.kube.objects.delete("pods", NS, old!);
    await t.b.settled();
    const nets = await waitFor(async () => {
      const list = await admin.networkStatus(t.b.name, "podgone").catch(() => undefined);
      return list?.length ? list : undefined;
    }, "network status on the new pod");
    expect(nets.map((n) => n.name)).toEqual(["irc.now"]);
    expect(t.b.podNames()).not.toContain(old);
    // Its own exec on the new pod (more than one only if the new pod needed another look).
    expect(t.execs()).toBeGreaterThanOrEqual(2);
  });

  it("release ends a kept session at once", async () => {
    await quiet();
    const t = await applied("released");
    expect(world.kube.activeExecSessions).toBe(1);
    await admin.release(t.b.name);
    await waitFor(
      () => (world.kube.activeExecSessions === 0 ? true : undefined),
      "the kept session to end",
      KEPT_IDLE_MS / 2,
    );
  });
});
