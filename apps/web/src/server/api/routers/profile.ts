import { z } from "zod";
import { keycloakAdmin } from "../../keycloak-admin";
import { rateLimiter } from "../../rate-limit";
import {
  EMAIL_CHANGE_LIMIT,
  getProfile,
  profileView,
  updateProfile,
  updateProfileResult,
} from "../../domain/profile";
import { updateProfileInput } from "../../domain/profile-schema";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** The caller's own profile: display name, email (through Keycloak), content auto-expire. */
export const profileRouter = createTRPCRouter({
  get: protectedProcedure
    .input(z.void())
    .output(profileView)
    .query(({ ctx }) => getProfile(ctx.domain.db, ctx.actor.id)),

  update: protectedProcedure
    .input(updateProfileInput)
    .output(updateProfileResult)
    .mutation(({ ctx, input }) =>
      updateProfile(
        {
          db: ctx.domain.db,
          keycloak: keycloakAdmin(),
          emailChanges: rateLimiter(ctx.domain.db, EMAIL_CHANGE_LIMIT),
        },
        ctx.actor,
        input,
      ),
    ),
});
