import { z } from "zod";
import {
  adminStats,
  adoptErgoAccount,
  auditLog,
  bouncerDetail,
  listAllBouncers,
  retryBouncerSetup,
} from "../../domain/admin";
import { appPasswordStats } from "../../domain/app-password-stats";
import { existingBouncerNameSchema } from "../../domain/names";
import {
  adminBouncerRow,
  auditEntry,
  bouncerPhase,
  bouncerView,
  ergoAccountView,
  setupAttempt,
  setupOutcome,
} from "../schemas";
import { adminProcedure, createTRPCRouter } from "../trpc";

const page = z.number().int().min(1).max(10_000).default(1);
const reason = z.string().trim().min(3, "Say briefly why (at least 3 characters).").max(500);

export const adminRouter = createTRPCRouter({
  bouncers: adminProcedure
    .input(
      z.object({
        search: z.string().max(100).optional(),
        phase: bouncerPhase.optional(),
        upstream: z
          .enum(["authenticated", "unauthenticated", "disconnected", "unknown", "none"])
          .optional(),
        outcome: z.union([setupOutcome, z.literal("none")]).optional(),
        sort: z.enum(["name", "owner", "phase", "created", "lastAttempt"]).default("name"),
        direction: z.enum(["asc", "desc"]).default("asc"),
        page,
        pageSize: z.number().int().min(1).max(200).default(25),
      }),
    )
    .output(z.object({ rows: z.array(adminBouncerRow), total: z.number() }))
    .query(({ ctx, input }) => listAllBouncers(ctx.domain, input)),

  bouncer: adminProcedure
    .input(z.object({ name: existingBouncerNameSchema }))
    .output(
      z.object({
        bouncer: bouncerView,
        attempts: z.array(setupAttempt),
        audit: z.array(auditEntry.extend({ previousBouncer: z.boolean() })),
        ergoAccount: ergoAccountView,
      }),
    )
    .query(({ ctx, input }) => bouncerDetail(ctx.domain, input.name)),

  retry: adminProcedure
    .input(z.object({ name: existingBouncerNameSchema, reason }))
    .output(auditEntry)
    .mutation(({ ctx, input }) =>
      retryBouncerSetup(ctx.domain, ctx.actor, input.name, input.reason),
    ),

  /**
   * Adopt the ergo account of a bouncer that waits for an admin because the account exists and
   * the portal does not own it: the bouncer's owner owns it from now on (audited), and setup
   * runs again, resetting its password to the user's irc.now credential.
   */
  adoptAccount: adminProcedure
    .input(z.object({ name: existingBouncerNameSchema, reason }))
    .output(auditEntry)
    .mutation(({ ctx, input }) =>
      adoptErgoAccount(ctx.domain, ctx.actor, input.name, input.reason),
    ),

  /** Counts and the last login time of the owner's app passwords; never the passwords. */
  appPasswordStats: adminProcedure
    .input(z.object({ name: existingBouncerNameSchema }))
    .output(
      z.object({
        known: z.boolean(),
        live: z.number(),
        kept: z.number(),
        lastUsedAt: z.date().nullable(),
      }),
    )
    .query(({ ctx, input }) => appPasswordStats(ctx.domain, input.name)),

  audit: adminProcedure
    .input(z.object({ page, pageSize: z.number().int().min(1).max(200).default(50) }))
    .output(z.object({ rows: z.array(auditEntry), total: z.number() }))
    .query(({ ctx, input }) => auditLog(ctx.domain, input)),

  stats: adminProcedure
    .input(z.object({ days: z.number().int().min(1).max(90).default(14) }))
    .output(
      z.object({
        byPhase: z.record(z.string(), z.number()),
        outcomesByDay: z.array(
          z.object({
            day: z.string(),
            succeeded: z.number(),
            failed: z.number(),
            running: z.number(),
            needs_admin: z.number(),
          }),
        ),
      }),
    )
    .query(({ ctx, input }) => adminStats(ctx.domain, input.days)),
});
