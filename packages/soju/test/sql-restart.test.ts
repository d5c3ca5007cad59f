/** sql-restart adapter only: rows soju can load, pod restarts, and what it cannot do. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SojuCommandFailed, SojuUnavailable, SojuUnsupported, type SojuAdmin } from "../src/index";
import { rejection, waitFor, World, type Bouncer } from "./helpers";

const world = new World();
const logs: string[] = [];
let admin: SojuAdmin;
let bouncer: Bouncer;

beforeAll(async () => {
  await world.start();
  bouncer = await world.bouncer("sql-only");
  admin = world.admin("sql-restart", logs);
});
afterAll(() => world.stop());

describe("sql-restart adapter", () => {
  it("every write deletes the bouncer's pods; the restarted soju has loaded the rows", async () => {
    const b = bouncer.name;
    const podsBefore = bouncer.podNames();
    expect(podsBefore).toHaveLength(1);
    const restarts = bouncer.restarts;

    expect(await admin.createUser(b, { username: "loaded", password: "Loaded-pw-1" })).toBe(
      "created",
    );
    await admin.createOrUpdateNetwork(b, "loaded", {
      name: "irc.now",
      addr: "irc+insecure://127.0.0.1:1",
      nick: "loaded",
      username: "",
      realname: "",
      enabled: false,
    });
    await admin.setSaslPlain(b, "loaded", "irc.now", "loaded", "Loaded-sasl-pw");
    await bouncer.settled();
    expect(bouncer.restarts - restarts).toBe(3);
    expect(bouncer.podNames()).not.toEqual(podsBefore);
    // `exists` changes nothing, so it restarts nothing.
    expect(await admin.createUser(b, { username: "loaded", password: "Loaded-pw-1" })).toBe(
      "exists",
    );
    await bouncer.settled();
    expect(bouncer.restarts - restarts).toBe(3);

    // soju (restarted) knows the user and its network, as BouncerServ shows.
    const result = await waitFor(async () => {
      const r = await bouncer.soju.runSojuctl([
        "-config",
        "/etc/soju/config",
        "user",
        "run",
        "loaded",
        "sasl",
        "status",
        "-network",
        "irc.now",
      ]);
      return r.exitCode === 0 ? r : undefined;
    }, "soju loaded the network");
    expect(result.stdout).toBe(
      'SASL PLAIN enabled with username "loaded"\nDisconnected from upstream network\n',
    );

    const [row] = await bouncer.networks("loaded", "irc.now");
    // Empty strings are NULL, the mechanism is upper-case PLAIN, as soju writes them.
    expect(row).toMatchObject({
      username: null,
      realname: null,
      saslMechanism: "PLAIN",
      saslPlainUsername: "loaded",
      saslPlainPassword: "Loaded-sasl-pw",
    });
  });

  it("with no pod running, the change is stored and applies at the next start", async () => {
    const idle = await world.bouncer("sql-nopod", { pod: false });
    expect(await admin.createUser(idle.name, { username: "later", disablePassword: true })).toBe(
      "created",
    );
    expect((await idle.user("later"))?.password).toBeNull();
  });

  it("refuses an addr soju would refuse, with soju's text", async () => {
    await admin.createUser(bouncer.name, { username: "scheme", disablePassword: true });
    const error = await rejection(
      admin.createOrUpdateNetwork(bouncer.name, "scheme", {
        name: "x",
        addr: "irc://127.0.0.1:6667",
        nick: "s",
        username: "s",
        enabled: false,
      }),
    );
    expect(error).toBeInstanceOf(SojuCommandFailed);
    expect((error as SojuCommandFailed).reply).toBe(
      'unknown scheme "irc" (supported schemes: ircs, irc+insecure, unix)',
    );
    expect(await bouncer.networks("scheme")).toHaveLength(0);
  });

  it("userRun is unsupported; a bouncer without its {name}-db secret is unavailable", async () => {
    expect(await rejection(admin.userRun(bouncer.name, "x", ["network", "status"]))).toBeInstanceOf(
      SojuUnsupported,
    );
    const error = await rejection(
      admin.setSaslPlain("no-secret", "x", "irc.now", "x", "No-secret-pw"),
    );
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toContain("no-secret");
    expect(error.message).not.toContain("No-secret-pw");
  });

  it("keeps passwords and hashes out of the logs", () => {
    const all = logs.join("\n");
    expect(all).toContain("deleted soju pod");
    for (const s of ["Loaded-pw-1", "Loaded-sasl-pw", "No-secret-pw", "$2a$"])
      expect(all).not.toContain(s);
  });
});
