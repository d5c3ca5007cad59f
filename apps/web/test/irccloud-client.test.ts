import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultIrccloudUsers,
  startIrccloudStandin,
  type IrccloudStandin,
} from "@irc-now/standins/irccloud";
import { fetchIrccloudAccount } from "~/server/irccloud/client";
import { IrccloudError } from "~/server/irccloud/errors";

// The client against the IRCCloud stand-in (a real HTTP + WebSocket server): the happy paths
// (backlog_complete in the OOB array or on the socket, a sharded account) and the faults a user
// must get clear words for, none of which may carry the password or the session.
const [alice] = defaultIrccloudUsers();
const seed = (email: string, extra: Partial<NonNullable<typeof alice>> = {}) => ({
  ...alice!,
  email,
  ...extra,
});

let irccloud: IrccloudStandin;
beforeAll(async () => {
  irccloud = await startIrccloudStandin({
    maxFailures: 3,
    users: [
      alice!,
      seed("socket@example.test", { backlogComplete: "socket" }),
      seed("shard@example.test", { sharded: true }),
      seed("stall@example.test", { stream: "stall" }),
      seed("legacy@example.test", { loginRefusal: "legacy_account" }),
    ],
  });
});
afterAll(() => irccloud.stop());

const fetchAs = (email: string, password = alice!.password, deadlineMs = 10_000) =>
  fetchIrccloudAccount({ baseUrl: irccloud.url, email, password, deadlineMs });

async function failure(p: Promise<unknown>): Promise<IrccloudError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IrccloudError);
  const e = error as IrccloudError;
  for (const secret of [alice!.password, ...irccloud.sessions])
    expect(e.message).not.toContain(secret);
  return e;
}

describe("IRCCloud client", () => {
  it("reads the servers and channels of an account (backlog_complete in the OOB array)", async () => {
    const account = await fetchAs(alice!.email);
    expect(account.unreadable).toBe(0);
    expect(account.networks.map((n) => [n.name, n.host, n.port, n.tls, n.nick])).toEqual([
      ["Libera", "irc.libera.chat", 6697, true, "alice_l"],
      ["OFTC", "irc.oftc.net", 6697, true, "alice_o"],
      ["Home", "irc.home.example", 6667, false, "alice_h"],
    ]);
    const [libera, oftc, home] = account.networks;
    expect(libera!.nickservPassword).toBe("libera-nickserv-pass");
    expect(libera!.channels.find((c) => c.name === "#oldproject")?.archived).toBe(true);
    expect(oftc!.serverPassword).toBeUndefined();
    expect(home!.serverPassword).toBe("home-server-pass");
    expect(home!.channels.find((c) => c.name === "#secret")?.key).toBe("hunter2");
    // Conversations are not channels.
    expect(account.networks.flatMap((n) => n.channels).map((c) => c.name)).not.toContain("friend");
  });

  it("waits for the OOB array when backlog_complete comes on the socket first", async () => {
    const account = await fetchAs("socket@example.test");
    expect(account.networks).toHaveLength(3);
    expect(account.networks.flatMap((n) => n.channels)).toHaveLength(11);
  });

  it("follows set_shard to the account's shard with the new session", async () => {
    const streamsBefore = irccloud.streams;
    const account = await fetchAs("shard@example.test");
    expect(account.networks).toHaveLength(3);
    expect(irccloud.streams - streamsBefore).toBe(2);
  });

  it("says the password is wrong, then that IRCCloud rate-limits, in plain words", async () => {
    const wrong = await failure(fetchAs("legacy-free@example.test", "not-it"));
    expect(wrong.kind).toBe("WRONG_CREDENTIALS");
    expect(wrong.message).toMatch(/did not accept that email and password/);
    await failure(fetchAs("legacy-free@example.test", "not-it"));
    await failure(fetchAs("legacy-free@example.test", "not-it"));
    const limited = await failure(fetchAs("legacy-free@example.test", "not-it"));
    expect(limited.kind).toBe("RATE_LIMITED");
    expect(limited.message).toMatch(/too many attempts/);
  });

  it("explains a legacy account", async () => {
    const e = await failure(fetchAs("legacy@example.test"));
    expect(e.kind).toBe("LEGACY_ACCOUNT");
  });

  it("gives up on a stalled stream at the deadline with a clear message", async () => {
    const started = Date.now();
    const e = await failure(fetchAs("stall@example.test", alice!.password, 1_500));
    expect(e.kind).toBe("TIMEOUT");
    expect(e.message).toMatch(/did not send your networks within 2 seconds/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("says IRCCloud cannot be reached when nothing answers", async () => {
    const e = await failure(
      fetchIrccloudAccount({
        baseUrl: "http://127.0.0.1:9",
        email: alice!.email,
        password: alice!.password,
        deadlineMs: 5_000,
      }),
    );
    expect(e.kind).toBe("UNAVAILABLE");
  });
});
