import {
  deletionRequestView,
  requestAccountDeletion,
  requestDeletionInput,
} from "../../domain/account-deletion";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** The caller's own account: deleting it (the worker finishes the job). */
export const accountRouter = createTRPCRouter({
  requestDeletion: protectedProcedure
    .input(requestDeletionInput)
    .output(deletionRequestView)
    .mutation(({ ctx, input }) => requestAccountDeletion(ctx.domain.db, ctx.actor, input)),
});
