import { and, eq } from "drizzle-orm";
import type { CoreV1Api } from "@kubernetes/client-node";
import { closeSojuDb, createSojuDb, soju } from "@irc-now/db";
import { readTenantDbUrl } from "@irc-now/k8s";
import type { OpenTenantDb } from "./index";

/** Opens a bouncer's soju tenant DB from its `{name}-db` secret; reads only (Drizzle). */
export function tenantDbOpener(core: CoreV1Api, namespace: string): OpenTenantDb {
  return async (bouncer) => {
    const db = createSojuDb(await readTenantDbUrl(core, namespace, bouncer), { max: 1 });
    return {
      async hasUser(username) {
        const rows = await db
          .select({ id: soju.sojuUser.id })
          .from(soju.sojuUser)
          .where(eq(soju.sojuUser.username, username));
        return rows.length > 0;
      },
      async saslPlainCredentials(username, network) {
        const rows = await db
          .select({
            mechanism: soju.sojuNetwork.saslMechanism,
            user: soju.sojuNetwork.saslPlainUsername,
            password: soju.sojuNetwork.saslPlainPassword,
          })
          .from(soju.sojuNetwork)
          .innerJoin(soju.sojuUser, eq(soju.sojuUser.id, soju.sojuNetwork.user))
          .where(and(eq(soju.sojuUser.username, username), eq(soju.sojuNetwork.name, network)));
        const row = rows[0];
        return row?.mechanism === "PLAIN" && row.user && row.password
          ? { username: row.user, password: row.password }
          : null;
      },
      close: () => closeSojuDb(db),
    };
  };
}
