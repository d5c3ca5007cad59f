import { eq } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import type { OwnershipStore } from "../ports/index";

/** ergo accounts the portal owns, in the accounts DB (DESIGN.md §2 step 3). */
export function dbOwnership(db: AccountsDb): OwnershipStore {
  const e = accounts.ergoAccounts;
  const ownerOf = async (account: string) => {
    const [row] = await db
      .select({ owner: e.ownerUserId })
      .from(e)
      .where(eq(e.account, account.toLowerCase()));
    return row?.owner ?? null;
  };
  return {
    ownerOf,
    async claim(account, ownerUserId, origin, adoptedBy) {
      await db
        .insert(e)
        .values({ account: account.toLowerCase(), ownerUserId, origin, adoptedBy })
        .onConflictDoNothing({ target: e.account });
      return (await ownerOf(account)) ?? ownerUserId;
    },
  };
}
