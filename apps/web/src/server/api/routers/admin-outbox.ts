import { z } from "zod";
import { retryOutboxItem, stuckOutboxItems } from "../../domain/admin-outbox";
import { auditEntry } from "../schemas";
import { adminProcedure, createTRPCRouter } from "../trpc";

const stuckItem = z.object({
  userId: z.string(),
  username: z.string(),
  reasons: z.array(z.string()),
  rows: z.number(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  oldestAt: z.date(),
  ageS: z.number(),
  lastAttemptAt: z.date().nullable(),
  nextAttemptAt: z.date().nullable(),
  held: z.boolean(),
});

/** The admin console's view of the Keycloak outbox: stuck pushes and their retry (audited). */
export const adminOutboxRouter = createTRPCRouter({
  stuck: adminProcedure
    .output(z.object({ items: z.array(stuckItem), pending: z.number() }))
    .query(({ ctx }) => stuckOutboxItems(ctx.domain)),

  retry: adminProcedure
    .input(z.object({ userId: z.uuid("Not a user id.") }))
    .output(auditEntry)
    .mutation(({ ctx, input }) => retryOutboxItem(ctx.domain, ctx.actor, input.userId)),
});
