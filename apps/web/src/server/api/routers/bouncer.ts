import { z } from "zod";
import { env } from "~/env";
import { bouncerChangeLimiter, withinBouncerChangeLimit } from "../../domain/bouncer-limits";
import {
  createBouncer,
  deleteBouncer,
  getMyBouncer,
  listMyBouncersFromRead,
  quotaFor,
} from "../../domain/bouncers";
import type { DomainContext } from "../../domain/context";
import { bouncerNameSchema } from "../../domain/names";
import { userBouncerView } from "../schemas";
import { userWithProjection } from "../../domain/projection-reads";
import {
  actorOfSessionUser,
  createTRPCRouter,
  protectedProcedure,
  sessionProcedure,
} from "../trpc";

/** Creates and deletes share one budget per user (plans area: BOUNCER_CHANGE_*). */
function changeLimiter(domain: DomainContext) {
  const config = env();
  return bouncerChangeLimiter(domain.db, {
    points: config.BOUNCER_CHANGE_LIMIT,
    durationS: config.BOUNCER_CHANGE_WINDOW_S,
  });
}

export const bouncerRouter = createTRPCRouter({
  // The user row and the projection in one statement; the session checks run on that row
  // before anything is built (protectedProcedure would read the row in a statement of its own).
  mine: sessionProcedure
    .input(z.void())
    .output(
      z.object({
        bouncers: z.array(userBouncerView),
        quota: z.number(),
        plan: z.enum(["free", "pro"]),
      }),
    )
    .query(async ({ ctx }) => {
      const read = await userWithProjection(
        ctx.domain.db,
        ctx.domain.namespace,
        ctx.session.user.id,
      );
      const actor = actorOfSessionUser(ctx.session, read.user);
      return {
        bouncers: await listMyBouncersFromRead(ctx.domain, actor, read),
        quota: quotaFor(ctx.domain, actor.plan),
        plan: actor.plan,
      };
    }),

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
