import { z } from "zod";
import { env } from "~/env";
import {
  listUsers,
  retryAccountDeletion,
  stripeModeOfKey,
  userDetail,
} from "../../domain/admin-users";
import { attemptSummary, auditEntry, bouncerPhase, upstreamSummary } from "../schemas";
import { adminProcedure, createTRPCRouter } from "../trpc";

const userRow = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  plan: z.enum(["free", "pro"]),
  subscriptionStatus: z.string().nullable(),
  bouncers: z.number(),
  suspended: z.number(),
  lastLoginAt: z.date().nullable(),
  createdAt: z.date(),
  pendingDeletion: z.object({ step: z.string(), requestedAt: z.date() }).nullable(),
});

const userDetailOutput = z.object({
  user: z.object({
    id: z.string(),
    username: z.string(),
    email: z.string().nullable(),
    displayName: z.string().nullable(),
    keycloakSubject: z.string(),
    createdAt: z.date(),
    lastLoginAt: z.date().nullable(),
    loginCount: z.number(),
    contentAutoExpire: z.boolean(),
  }),
  billing: z.object({
    plan: z.enum(["free", "pro"]),
    status: z.string().nullable(),
    pastDueSince: z.date().nullable(),
    graceEndsAt: z.date().nullable(),
    cancelAtPeriodEnd: z.boolean(),
    periodEnd: z.date().nullable(),
    customerId: z.string().nullable(),
    customerUrl: z.string().nullable(),
    subscriptionId: z.string().nullable(),
    events: z.array(
      z.object({
        eventId: z.string(),
        type: z.string(),
        receivedAt: z.date(),
        outcome: z.string().nullable(),
      }),
    ),
  }),
  bouncers: z.array(
    z.object({
      name: z.string(),
      phase: bouncerPhase,
      ready: z.boolean(),
      configured: z.boolean(),
      upstream: upstreamSummary.nullable(),
      lastAttempt: attemptSummary.nullable(),
      createdAt: z.string().nullable(),
      suspendedAt: z.date().nullable(),
      suspendedReason: z.string().nullable(),
      sojuDisabled: z.boolean().nullable(),
    }),
  ),
  outbox: z.object({
    pending: z.number(),
    held: z.boolean(),
    stuck: z.boolean(),
    attempts: z.number(),
    lastError: z.string().nullable(),
    oldestAt: z.date().nullable(),
    nextAttemptAt: z.date().nullable(),
  }),
  deletion: z
    .object({
      id: z.string(),
      step: z.string(),
      requestedAt: z.date(),
      updatedAt: z.date(),
      completedAt: z.date().nullable(),
      attempts: z.number(),
      lastError: z.string().nullable(),
      nextAttemptAt: z.date(),
    })
    .nullable(),
  audit: z.array(auditEntry),
});

/** The admin console's users: list, one user's page, and retrying a pending account deletion. */
export const adminUsersRouter = createTRPCRouter({
  list: adminProcedure
    .input(
      z.object({
        search: z.string().trim().max(100, "Search with at most 100 characters.").optional(),
        page: z.number().int().min(1).max(10_000).default(1),
        pageSize: z.number().int().min(1).max(200).default(25),
      }),
    )
    .output(z.object({ rows: z.array(userRow), total: z.number() }))
    .query(({ ctx, input }) => listUsers(ctx.domain, input)),

  user: adminProcedure
    .input(z.object({ username: z.string().trim().min(1, "Enter a username.").max(255) }))
    .output(userDetailOutput)
    .query(({ ctx, input }) =>
      userDetail(ctx.domain, input.username, {
        graceDays: env().PRO_GRACE_DAYS,
        // Only the key's test/live prefix is read, to pick the dashboard; the key stays here.
        stripeMode: stripeModeOfKey(env().STRIPE_SECRET_KEY),
      }),
    ),

  retryDeletion: adminProcedure
    .input(z.object({ userId: z.uuid("Not a user id.") }))
    .output(auditEntry)
    .mutation(({ ctx, input }) => retryAccountDeletion(ctx.domain, ctx.actor, input.userId)),
});
