import { sql } from "drizzle-orm";
import { keycloakOutbox } from "./schema";
import type { AccountsDb } from "./client";

/** The DB or a transaction of it: enqueue in the transaction of the change it announces. */
export type AccountsDbOrTx = AccountsDb | Parameters<Parameters<AccountsDb["transaction"]>[0]>[0];

export type KeycloakSyncReason = (typeof keycloakOutbox.$inferInsert)["reason"];

/**
 * Records that Keycloak must learn `userId`'s current state. Call it in the same transaction as
 * the change (login, profile save, plan change): the worker pushes whatever the user's row says
 * when it drains, so the row carries no snapshot.
 */
export async function enqueueKeycloakSync(
  db: AccountsDbOrTx,
  userId: string,
  reason: KeycloakSyncReason,
): Promise<void> {
  await db.insert(keycloakOutbox).values({ userId, reason });
}

/**
 * Serialises everything that writes one user's Keycloak representation: the worker's push reads
 * the Keycloak user and writes it back whole (Keycloak 24.0.4+ clears the email when a PUT with
 * attributes leaves it out), so a push overlapping an email change could write the old email
 * back. Both take this transaction-scoped lock around their Keycloak call. Call it first in a
 * transaction that needs no second connection while it waits.
 */
export async function lockKeycloakUser(tx: AccountsDbOrTx, userId: string): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`irc-now keycloak user ${userId}`}, 0))`,
  );
}
