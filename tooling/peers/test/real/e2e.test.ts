import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { createErgoAdmin, type ErgoAdmin } from "@irc-now/ergo";
import { createSojuAdmin, type SojuAdmin } from "@irc-now/soju";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ergoProbe } from "../../src/ergo";
import { startSoju, type RealSoju } from "../../src/soju";

/**
 * End to end against the real programs, through our own ports only: the account is registered
 * in the real ergo 2.15 by ErgoAdmin (IRC oper session: SAREGISTER), the `irc.now` network with
 * SASL PLAIN is set up in the real soju 0.10.1 by SojuAdmin's socket adapter, and then both real
 * programs say the same thing: ergo's WHOIS has 330 for the nick, soju's `sasl status` says
 * authenticated.
 */

const peers = inject("peers");
const BOUNCER = "e2e-bouncer";
const ACCOUNT = "carol";

let root = "";
let soju: RealSoju | undefined;
let ergoAdmin: ErgoAdmin | undefined;
let sojuAdmin: SojuAdmin | undefined;

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!peers)(
  "end to end: ErgoAdmin + SojuAdmin (socket) + real ergo + real soju",
  () => {
    beforeAll(async () => {
      root = await mkdtemp(join(peers!.stateRoot, "e2e-"));
      // what the operator does for each bouncer: a soju with its own DB, admin socket <root>/<name>/
      soju = await startSoju({
        postgresUrl: peers!.postgresUrl!,
        stateDir: join(root, BOUNCER),
      });
      const ergo = peers!.ergo!;
      ergoAdmin = createErgoAdmin({
        ERGO_IRC_URL: ergo.ircUrl,
        ERGO_OPER_NAME: ergo.oper.name,
        ERGO_OPER_PASSWORD: ergo.oper.password,
        ERGO_ADMIN_NICK: "irc-now-admin",
      });
      sojuAdmin = createSojuAdmin({
        SOJU_ADMIN: "socket",
        SOJU_ADMIN_SOCKET: join(root, "{name}", "admin.sock"),
        SOJU_POD_SELECTOR: "irc.now/bouncer={name}",
        SOJU_CONTAINER: "soju",
        SOJU_CONFIG_PATH: "/etc/soju/config",
        namespace: "irc-now",
      });
    });

    afterAll(async () => {
      await sojuAdmin?.close();
      await ergoAdmin?.close();
      await soju?.stop();
    });

    it("the bouncer logs in to ergo as the account: WHOIS 330 and sasl status agree", async () => {
      const password = `E2e-${Date.now().toString(36)}-pw`;
      expect(await ergoAdmin!.ensureAccount(ACCOUNT, password)).toBe("created");
      expect(await ergoAdmin!.checkCredentials(ACCOUNT, password)).toBe(true);

      const admin = sojuAdmin!;
      expect(await admin.createUser(BOUNCER, { username: ACCOUNT, disablePassword: true })).toBe(
        "created",
      );
      expect(
        await admin.createOrUpdateNetwork(BOUNCER, ACCOUNT, {
          name: "irc.now",
          addr: `irc+insecure://127.0.0.1:${peers!.ergo!.port}`,
          nick: ACCOUNT,
          username: ACCOUNT,
          enabled: false,
        }),
      ).toBe("created");
      await admin.setSaslPlain(BOUNCER, ACCOUNT, "irc.now", ACCOUNT, password);
      await admin.enableNetwork(BOUNCER, ACCOUNT, "irc.now");

      // ergo: the nick is online and logged in as the account (330), seen by our port and by a
      // plain IRC client of the test
      expect(
        await until(
          async () => ((await ergoAdmin!.whois(ACCOUNT)) === ACCOUNT ? ACCOUNT : undefined),
          "WHOIS 330 through ErgoAdmin",
        ),
      ).toBe(ACCOUNT);
      const whois = await ergoProbe(peers!.ergo!).whois(ACCOUNT);
      expect(whois.map((l) => l.raw)).toContain(
        `:ergo.test 330 ${whois[0]?.params[0]} ${ACCOUNT} ${ACCOUNT} :is logged in as`,
      );

      // soju: its own view of the upstream login, through our port and through sojuctl
      expect(await admin.saslStatus(BOUNCER, ACCOUNT, "irc.now")).toEqual({
        plainUsername: ACCOUNT,
        state: { kind: "authenticated", account: ACCOUNT },
      });
      expect(
        await soju!.bouncerServ("user", "run", ACCOUNT, "sasl", "status", "-network", "irc.now"),
      ).toEqual([
        `SASL PLAIN enabled with username "${ACCOUNT}"`,
        `Authenticated on upstream network with account "${ACCOUNT}"`,
      ]);
    });
  },
);
