import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { adminOutboxRouter } from "./routers/admin-outbox";
import { adminUsersRouter } from "./routers/admin-users";
import { appPasswordsRouter } from "./routers/app-passwords";
import { bouncerRouter } from "./routers/bouncer";
import { importRouter } from "./routers/import";
import { profileRouter } from "./routers/profile";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  bouncer: bouncerRouter,
  admin: adminRouter,
  adminOutbox: adminOutboxRouter,
  adminUsers: adminUsersRouter,
  import: importRouter,
  appPasswords: appPasswordsRouter,
  profile: profileRouter,
  account: accountRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
