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
