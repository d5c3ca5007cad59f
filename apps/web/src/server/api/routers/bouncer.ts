import { z } from "zod";
import { env } from "~/env";
import { bouncerChangeLimiter, withinBouncerChangeLimit } from "../../domain/bouncer-limits";
import {
  createBouncer,
  deleteBouncer,
  getMyBouncer,
  listMyBouncers,
  quotaFor,
} from "../../domain/bouncers";
import type { DomainContext } from "../../domain/context";
import { bouncerNameSchema } from "../../domain/names";
import { userBouncerView } from "../schemas";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** Creates and deletes share one budget per user (plans area: BOUNCER_CHANGE_*). */
function changeLimiter(domain: DomainContext) {
  const config = env();
  return bouncerChangeLimiter(domain.db, {
    points: config.BOUNCER_CHANGE_LIMIT,
    durationS: config.BOUNCER_CHANGE_WINDOW_S,
  });
}

export const bouncerRouter = createTRPCRouter({
  mine: protectedProcedure
    .input(z.void())
    .output(
      z.object({
        bouncers: z.array(userBouncerView),
        quota: z.number(),
        plan: z.enum(["free", "pro"]),
      }),
    )
    .query(async ({ ctx }) => ({
      bouncers: await listMyBouncers(ctx.domain, ctx.actor),
      quota: quotaFor(ctx.domain, ctx.actor.plan),
      plan: ctx.actor.plan,
    })),

  byName: protectedProcedure
    .input(z.object({ name: bouncerNameSchema }))
    .output(userBouncerView)
    .query(({ ctx, input }) => getMyBouncer(ctx.domain, ctx.actor, input.name)),

  create: protectedProcedure
    .input(z.object({ name: bouncerNameSchema }))
    .output(userBouncerView)
    .mutation(({ ctx, input }) =>
      withinBouncerChangeLimit(changeLimiter(ctx.domain), ctx.actor, () =>
        createBouncer(ctx.domain, ctx.actor, input.name),
      ),
    ),

  delete: protectedProcedure
    .input(z.object({ name: bouncerNameSchema, confirmName: z.string().max(63) }))
    .output(z.object({ deleted: z.string() }))
    .mutation(({ ctx, input }) =>
      withinBouncerChangeLimit(changeLimiter(ctx.domain), ctx.actor, () =>
        deleteBouncer(ctx.domain, ctx.actor, input.name, input.confirmName),
      ),
    ),
});
