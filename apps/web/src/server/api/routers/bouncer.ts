import { z } from "zod";
import {
  createBouncer,
  deleteBouncer,
  getMyBouncer,
  listMyBouncers,
  quotaFor,
} from "../../domain/bouncers";
import { bouncerNameSchema } from "../../domain/names";
import { userBouncerView } from "../schemas";
import { createTRPCRouter, protectedProcedure } from "../trpc";

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
    .mutation(({ ctx, input }) => createBouncer(ctx.domain, ctx.actor, input.name)),

  delete: protectedProcedure
    .input(z.object({ name: bouncerNameSchema, confirmName: z.string().max(63) }))
    .output(z.object({ deleted: z.string() }))
    .mutation(({ ctx, input }) =>
      deleteBouncer(ctx.domain, ctx.actor, input.name, input.confirmName),
    ),
});
