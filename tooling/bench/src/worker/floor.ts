/**
 * The wire floor: the calls upstream setup cannot do without, issued bare, in order, by a
 * minimal script — and with the very clients the worker uses (its `wire()`), so the difference
 * to the worker is the worker's own overhead, not a client's:
 *   read `{name}-db` (client-node) → one SELECT on the tenant DB (soju's stored SASL credentials)
 *   → ergo SAREGISTER + SASL PLAIN check (packages/ergo, IRC oper session)
 *   → soju `network create`, `sasl set-plain`, `network update -enabled true` (packages/soju, sojuctl over exec)
 *   → merge-patch the `irc.now/upstream-configured` annotation.
 * No attempt recording, no step-6 WHOIS verification, no retries, no logging.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { and, eq } from "drizzle-orm";
import { closeSojuDb, createSojuDb, soju } from "@irc-now/db";
import { readTenantDbUrl } from "@irc-now/k8s";
import type { Wiring } from "../../../../apps/worker/src/wiring";

export interface FloorClients {
  w: Wiring;
  namespace: string;
  upstreamAddr: string;
  network: string;
}

/** Reports each step's duration (ms) to `onLap`, when given. */
export async function floorSetup(
  c: FloorClients,
  name: string,
  username: string,
  onLap?: (step: string, ms: number) => void,
): Promise<void> {
  const { w, namespace, network } = c;
  let mark = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    onLap?.(step, now - mark);
    mark = now;
  };
  const url = await readTenantDbUrl(w.kube.core, namespace, name);
  lap("secret");
  const db = createSojuDb(url, { max: 1 });
  let stored: string | null = null;
  try {
    const rows = await db
      .select({
        user: soju.sojuNetwork.saslPlainUsername,
        password: soju.sojuNetwork.saslPlainPassword,
      })
      .from(soju.sojuNetwork)
      .innerJoin(soju.sojuUser, eq(soju.sojuUser.id, soju.sojuNetwork.user))
      .where(and(eq(soju.sojuUser.username, username), eq(soju.sojuNetwork.name, network)));
    stored = rows[0]?.password ?? null;
  } finally {
    await closeSojuDb(db);
  }
  lap("tenantDbSelect");
  const password = stored ?? randomBytes(24).toString("base64url");
  await w.deps.ergo.ensureAccount(username, password);
  lap("ergoSaregister");
  if (!(await w.deps.ergo.checkCredentials(username, password)))
    throw new Error(`ergo refused the credentials of ${username}`);
  lap("ergoSaslCheck");
  await w.deps.soju.createOrUpdateNetwork(name, username, {
    name: network,
    addr: c.upstreamAddr,
    nick: username,
    username,
    enabled: false,
  });
  lap("sojuNetworkCreate");
  await w.deps.soju.setSaslPlain(name, username, network, username, password);
  lap("sojuSaslSetPlain");
  await w.deps.soju.enableNetwork(name, username, network);
  lap("sojuNetworkEnable");
  await w.bouncers.markConfigured(name);
  lap("annotate");
}
