/**
 * tRPC setup in three parts: context, initialisation, procedures (public / protected / admin).
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import type { Session } from "next-auth";
import type { accounts } from "@irc-now/db";
import { env } from "~/env";
import { accountsDb } from "../db";
import { bouncerApi } from "../kube";
import type { Actor, DomainContext } from "../domain/context";
import { DomainError } from "../domain/errors";
import { userById } from "../domain/users";
import { signedInAfterCutoff } from "../auth/session-cutoff";
import { transformer } from "./transformer";

// ---------------------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------------------

export interface TRPCContext {
  session: Session | null;
  /**
   * The session's user row, read and checked against the sign-out cutoff (null: refused), at
   * most once per request however many procedures a batch holds. The tRPC route passes it;
   * without it `protectedProcedure` reads the row itself.
   */
  signedInUser?: () => Promise<accounts.User | null>;
  /** Built lazily: public procedures touch neither the DB nor Kubernetes. */
  domain: () => DomainContext;
}

export function domainContext(): DomainContext {
  const config = env();
  return {
    db: accountsDb(),
    bouncers: bouncerApi(),
    namespace: config.K8S_NAMESPACE,
    quotas: { free: config.PLAN_QUOTA_FREE, pro: config.PLAN_QUOTA_PRO },
    publicEndpoint: {
      host: config.BOUNCER_PUBLIC_HOST,
      port: config.BOUNCER_PUBLIC_PORT,
      tls: config.BOUNCER_PUBLIC_TLS,
    },
    ergoAdminNick: config.ERGO_ADMIN_NICK,
  };
}

export function createTRPCContext(
  session: Session | null,
  readSignedInUser?: (session: Session) => Promise<accounts.User | null>,
): TRPCContext {
  let domain: DomainContext | undefined;
  let user: Promise<accounts.User | null> | undefined;
  return {
    session,
    ...(session && readSignedInUser
      ? { signedInUser: () => (user ??= readSignedInUser(session)) }
      : {}),
    domain: () => (domain ??= domainContext()),
  };
}

// ---------------------------------------------------------------------------------------
// Initialisation
// ---------------------------------------------------------------------------------------

const domainCodes = {
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  FORBIDDEN: "FORBIDDEN",
  BAD_REQUEST: "BAD_REQUEST",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
} as const;

const t = initTRPC.context<TRPCContext>().create({
  // superjson's wire format, written faster for plain answers (the client decodes with superjson).
  transformer,
  errorFormatter({ shape, error }) {
    const zod = error.cause instanceof ZodError ? error.cause : null;
    // Never send stack traces or internal error texts to the browser.
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      // A zod failure's own message is a JSON dump of every issue: show the first one instead.
      message: internal
        ? "Something went wrong on our side. Please try again."
        : (zod?.issues[0]?.message ?? shape.message),
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        // The first problem per field: the most basic rule a value broke.
        fieldErrors: zod
          ? Object.fromEntries([...zod.issues].reverse().map((i) => [i.path.join("."), i.message]))
          : null,
      },
    };
  },
});

/** Domain errors become typed tRPC errors with their person-readable message. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: domainCodes[cause.kind], message: cause.message, cause });
  }
  return result;
});

/**
 * The HTTP handler's `onError`: only failures on our side are logged, once each, with the
 * procedure and the cause's message (never the input: it may hold what a person typed). An
 * expected answer — a bad name, a missing bouncer, a refused role — is the user's to read,
 * not an error in the server's log.
 */
export function logUnexpectedError({
  error,
  path,
  type,
}: {
  error: TRPCError;
  path: string | undefined;
  type: string;
}): void {
  if (error.code !== "INTERNAL_SERVER_ERROR") return;
  console.error(
    `tRPC ${type} ${path ?? "(unknown procedure)"} failed: ${error.cause?.message ?? error.message}`,
  );
}

// ---------------------------------------------------------------------------------------
// Router & procedures
// ---------------------------------------------------------------------------------------

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

export const publicProcedure = t.procedure.use(mapDomainErrors);

const signInFirst = () => new TRPCError({ code: "UNAUTHORIZED", message: "Please sign in." });
const sessionEnded = () =>
  new TRPCError({ code: "UNAUTHORIZED", message: "Your session has ended. Please sign in again." });

/**
 * The session checks on the session's user row as read for this request: the user still exists
 * and the session was signed in after the user's last sign-out (`sessions_valid_after`: a
 * cookie copied before it is refused). Throws UNAUTHORIZED; returns the actor otherwise.
 */
export function actorOfSessionUser(session: Session, user: accounts.User | null): Actor {
  if (
    !user ||
    user.id !== session.user.id ||
    !signedInAfterCutoff(session.signedInAt, user.sessionsValidAfter)
  )
    throw sessionEnded();
  return { id: user.id, username: user.username, plan: user.plan };
}

/**
 * A session cookie, decoded and within its role refresh, whose user row is not read yet: for a
 * procedure that reads that row in its own statement and checks it with
 * {@link actorOfSessionUser} before it builds or returns anything (bouncer.mine).
 */
export const sessionProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session?.user.id) throw signInFirst();
  return next({ ctx: { ...ctx, session: ctx.session, domain: ctx.domain() } });
});

/**
 * Signed in, still a user in our DB (plan read fresh: Stripe may have changed it), and signed in
 * after the user's last sign-out (`sessions_valid_after`: a cookie copied before it is refused).
 */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  if (!ctx.session?.user.id) throw signInFirst();
  const domain = ctx.domain();
  const user = ctx.signedInUser
    ? await ctx.signedInUser()
    : await userById(domain.db, ctx.session.user.id);
  const actor = actorOfSessionUser(ctx.session, user);
  return next({
    ctx: {
      ...ctx,
      domain,
      actor,
      isAdmin: ctx.session.user.isAdmin,
    },
  });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (!ctx.isAdmin)
    throw new TRPCError({ code: "FORBIDDEN", message: "This needs the irc.now admin role." });
  return next();
});
