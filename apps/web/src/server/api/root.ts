import { adminRouter } from "./routers/admin";
import { bouncerRouter } from "./routers/bouncer";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  bouncer: bouncerRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
