import { z } from "zod";
import { appPasswordHasher } from "../../app-password-hasher";
import {
  appPasswordView,
  createAppPassword,
  createAppPasswordInput,
  listAppPasswords,
  MAX_APP_PASSWORDS,
  revokeAppPassword,
} from "../../domain/app-passwords";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** The caller's own IRC app passwords. No admin procedure exists: staff never see or make them. */
export const appPasswordsRouter = createTRPCRouter({
  mine: protectedProcedure
    .input(z.void())
    .output(z.object({ passwords: z.array(appPasswordView), max: z.number() }))
    .query(async ({ ctx }) => ({
      passwords: await listAppPasswords(ctx.domain, ctx.actor),
      max: MAX_APP_PASSWORDS,
    })),

  create: protectedProcedure
    .input(createAppPasswordInput)
    .output(z.object({ password: appPasswordView, token: z.string() }))
    .mutation(({ ctx, input }) =>
      createAppPassword(ctx.domain, appPasswordHasher(), ctx.actor, input),
    ),

  revoke: protectedProcedure
    .input(z.object({ id: z.uuid({ error: "That app password does not exist." }) }))
    .output(z.object({ revoked: z.string() }))
    .mutation(({ ctx, input }) => revokeAppPassword(ctx.domain, ctx.actor, input.id)),
});
