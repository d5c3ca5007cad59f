import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planImport, networkLimitWarning, addrOf } from "~/server/domain/import-plan";
import { accountFromEvents } from "~/server/irccloud/parse";

// Recorded-shape events (facts/irccloud.md: the makeserver example is IRCCloud's own), with the
// variations a real account has: optional fields missing or null, a port as a string, an empty
// server password, archived buffers, a key with and without its value, a deleted buffer.
const events = JSON.parse(
  readFileSync(new URL("./fixtures/irccloud-oob.json", import.meta.url), "utf8"),
) as unknown[];

describe("IRCCloud initial state → networks and channels", () => {
  const account = accountFromEvents(events);

  it("reads every server, counting the one without a nick as unreadable", () => {
    expect(account.networks.map((n) => n.cid)).toEqual([2283, 2284, 2285]);
    expect(account.unreadable).toBe(1);
  });

  it("treats empty passwords as none and names unnamed servers by host", () => {
    const [swn, unnamed, minimal] = account.networks;
    expect(swn).toMatchObject({
      name: "SWN",
      host: "irc.seattlewireless.net",
      port: 7000,
      tls: true,
      nick: "fR",
    });
    expect(swn!.serverPassword).toBeUndefined();
    expect(swn!.nickservPassword).toBeUndefined();
    expect(swn!.nickservAccount).toBeUndefined();
    expect(unnamed).toMatchObject({
      name: "irc.example.org",
      port: 6667,
      tls: false,
      serverPassword: "zncuser:zncpass",
      nickservAccount: "frank",
      nickservPassword: "ns-secret",
    });
    expect(minimal).toMatchObject({ name: "Minimal", tls: false, channels: [] });
    expect(minimal!.realname).toBeUndefined();
  });

  it("keeps channels only (not consoles or conversations), archived ones marked, keys when sent", () => {
    expect(account.networks[0]!.channels).toEqual([
      { name: "#old", archived: true },
      { name: "#swn", archived: false },
    ]);
    expect(account.networks[1]!.channels).toEqual([
      { name: "#keyhidden", archived: false },
      { name: "#locked", archived: false, key: "s3cret" },
    ]);
  });

  it("applies later events: a deleted connection, archiving, renamed details", () => {
    const later = accountFromEvents([
      ...events,
      { type: "buffer_archived", cid: 2283, bid: 2 },
      { type: "connection_deleted", cid: 2285 },
      {
        type: "server_details_changed",
        cid: 2283,
        name: "SWN2",
        nick: "fR",
        hostname: "irc.swn.test",
        port: 6697,
        ssl: true,
      },
    ]);
    expect(later.networks.map((n) => n.name)).toEqual(["SWN2", "irc.example.org"]);
    expect(later.networks[0]!.channels.every((c) => c.archived)).toBe(true);
  });

  it("ignores what is not an object and types it does not know", () => {
    expect(accountFromEvents([null, 3, "x", { type: "idle" }, { type: "makeserver" }])).toEqual({
      networks: [],
      unreadable: 1,
    });
  });
});

describe("import plan", () => {
  const account = accountFromEvents(events);

  it("maps TLS to ircs:// and plain to irc+insecure://", () => {
    expect(addrOf({ host: "irc.x", port: 6697, tls: true })).toBe("ircs://irc.x:6697");
    expect(addrOf({ host: "irc.x", port: 6667, tls: false })).toBe("irc+insecure://irc.x:6667");
    expect(addrOf({ host: "::1", port: 6667, tls: false })).toBe("irc+insecure://[::1]:6667");
  });

  it("selects archived channels off, keeps names soju accepts and unique, warns on keys", () => {
    const plan = planImport(
      {
        networks: [
          ...account.networks,
          { ...account.networks[0]!, cid: 1, name: "SWN" },
          { ...account.networks[0]!, cid: 2, name: "irc.now" },
          { ...account.networks[0]!, cid: 3, name: "My Net/2" },
        ],
        unreadable: 0,
      },
      new Set(),
    );
    expect(plan.map((n) => n.name)).toEqual([
      "SWN",
      "irc.example.org",
      "Minimal",
      "SWN-2",
      "irc.now-irccloud",
      "My-Net-2",
    ]);
    expect(plan[0]!.channels.map((c) => [c.name, c.selected])).toEqual([
      ["#old", false],
      ["#swn", true],
    ]);
    expect(plan[1]!.channels.find((c) => c.name === "#locked")?.warnings.join(" ")).toMatch(
      /soju cannot store channel keys/,
    );
    expect(plan[1]!.warnings.join(" ")).toMatch(/SASL PLAIN login for account “frank”/);
    expect(plan[4]!.warnings.join(" ")).toMatch(/irc.now's own network/);
  });

  it("leaves already imported networks unselected, and says why", () => {
    const plan = planImport(account, new Set(["swn"]));
    expect(plan[0]).toMatchObject({ selected: false });
    expect(plan[0]!.channels.every((c) => !c.selected)).toBe(true);
    expect(plan[0]!.warnings.join(" ")).toMatch(/already in your bouncer/);
    expect(plan[1]!.selected).toBe(true);
  });

  it("warns when the selection is over soju's network limit", () => {
    expect(networkLimitWarning(-1, 1, 50)).toBeNull();
    expect(networkLimitWarning(3, 1, 2)).toBeNull();
    expect(networkLimitWarning(3, 1, 3)).toMatch(/only 2 more can be added/);
  });
});
