import { eq, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { RawIrc } from "./raw-irc";
import { dbBouncerProjection } from "../../src/ports/bouncer-projection";
import { projectedRow } from "../../src/bouncers/projection";
import { NS, type Harness } from "../support/harness";

/** Writes the projection row of each CR as the worker's watch would (Ready status included). */
export async function project(h: Harness, names: string[]): Promise<void> {
  const store = dbBouncerProjection(h.w.db);
  for (const name of names) {
    const cr = await h.w.bouncers.get(name);
    if (!cr) throw new Error(`no CR ${name}`);
    await store.upsert(projectedRow(NS, cr)!);
  }
}

export async function bouncerRow(h: Harness, name: string) {
  const [row] = await h.w.db
    .select()
    .from(accounts.bouncers)
    .where(eq(accounts.bouncers.name, name));
  if (!row) throw new Error(`no bouncers row ${name}`);
  return row;
}

/** Sets `suspended_at` as packages/billing does (the web's webhook and delete paths). */
export async function setSuspended(h: Harness, name: string, suspended: boolean): Promise<void> {
  await h.w.db
    .update(accounts.bouncers)
    .set(
      suspended
        ? { suspendedAt: sql`now()`, suspendedReason: "over_quota" }
        : { suspendedAt: null, suspendedReason: null },
    )
    .where(eq(accounts.bouncers.name, name));
}

/**
 * Logs in to the bouncer's soju stand-in as an IRC client (PASS, the operator's user password):
 * `welcome` (422 seen) or the ERROR line soju answered.
 */
export async function ircLogin(h: Harness, name: string, username: string): Promise<string> {
  const managed = h.operator.get(name);
  const addr = managed?.soju.downstreamAddress;
  if (!managed || !addr || managed.userPassword === undefined)
    throw new Error(`bouncer ${name} has no downstream listener with a password`);
  const client = await RawIrc.connect(addr.host, addr.port);
  try {
    client.write(`PASS ${managed.userPassword}\r\nNICK ${username}\r\nUSER ${username} 0 * :x\r\n`);
    for (;;) {
      const line = await client.readLine();
      if (line === null) return "closed";
      if (/ 422 /.test(line)) return "welcome";
      if (line.startsWith("ERROR")) return line;
    }
  } finally {
    client.close();
  }
}
