import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import type { ImportStore } from "./ports";

export function dbImportStore(db: AccountsDb): ImportStore {
  const jobs = accounts.importJobs;
  const items = accounts.importItems;
  const jobColumns = {
    id: jobs.id,
    userId: jobs.userId,
    state: jobs.state,
    bouncer: jobs.bouncer,
    createdAt: jobs.createdAt,
    startedAt: jobs.startedAt,
  };
  return {
    activeJobs: () =>
      db
        .select(jobColumns)
        .from(jobs)
        .where(inArray(jobs.state, ["queued", "running"]))
        .orderBy(asc(jobs.createdAt)),
    async markRunning(jobId) {
      const [job] = await db
        .update(jobs)
        .set({
          state: "running",
          startedAt: sql`coalesce(${jobs.startedAt}, now())`,
          updatedAt: new Date(),
        })
        .where(and(eq(jobs.id, jobId), inArray(jobs.state, ["queued", "running"])))
        .returning(jobColumns);
      if (!job) throw new Error(`import job ${jobId} is no longer active`);
      return job;
    },
    items: (jobId) =>
      db
        .select({
          id: items.id,
          jobId: items.jobId,
          position: items.position,
          kind: items.kind,
          network: items.network,
          channel: items.channel,
          spec: items.spec,
          sealed: items.sealed,
          state: items.state,
        })
        .from(items)
        .where(eq(items.jobId, jobId))
        .orderBy(asc(items.position)),
    async setItem(itemId, state, detail, eraseSealed = false) {
      await db
        .update(items)
        .set({ state, detail, updatedAt: new Date(), ...(eraseSealed ? { sealed: null } : {}) })
        .where(eq(items.id, itemId));
    },
    async finish(jobId, state, error) {
      await db.transaction(async (tx) => {
        await tx.update(items).set({ sealed: null }).where(eq(items.jobId, jobId));
        await tx
          .update(jobs)
          .set({ state, error, finishedAt: new Date(), updatedAt: new Date() })
          .where(eq(jobs.id, jobId));
      });
    },
  };
}
