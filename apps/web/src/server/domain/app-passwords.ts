import { createHmac, hkdfSync, randomInt, timingSafeEqual } from "node:crypto";
import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { accounts, type AccountsDb } from "@irc-now/db";
import { LABEL_OWNER } from "@irc-now/k8s";
import { RateLimited, rateLimiter, type RateLimiter } from "../rate-limit";
import type { Actor, DomainContext } from "./context";
import { DomainError } from "./errors";
import { bouncerNameSchema } from "./names";

/**
 * IRC app passwords (DESIGN.md §2 "Logging in to a bouncer from an IRC client"): per-device
 * secrets a user types into an IRC client; soju checks them through the portal's `auth http`
 * endpoint (soju-auth.ts). Shown once, stored as `lookup` + a keyed hash, revocable.
 */

/** Recognisable in a config file or a secret scanner. */
export const APP_PASSWORD_PREFIX = "ircnow_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** The indexed, non-secret id part: 16 base62 characters (~95 bits, so never a collision). */
const LOOKUP_LENGTH = 16;
/** The secret part: 32 base62 characters = 190 bits of randomness (≥ 128 asked). */
const SECRET_LENGTH = 32;
const TOKEN_PATTERN = new RegExp(
  `^${APP_PASSWORD_PREFIX}([0-9A-Za-z]{${LOOKUP_LENGTH}})_[0-9A-Za-z]{${SECRET_LENGTH}}$`,
);

export const MAX_APP_PASSWORDS = 20;
export const EXPIRY_CHOICES = [30, 90, 365] as const;
/** Creation budget per user: plenty for setting up devices, useless for filling the table. */
export const CREATE_LIMIT = { name: "app-password-create", points: 10, durationS: 3_600 };

// crypto.randomInt draws from the CSPRNG with rejection sampling: no modulo bias.
function randomBase62(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function generateAppPassword(): { token: string; lookup: string } {
  const lookup = randomBase62(LOOKUP_LENGTH);
  return { token: `${APP_PASSWORD_PREFIX}${lookup}_${randomBase62(SECRET_LENGTH)}`, lookup };
}

/** The lookup part of a well-formed token, or null (anything else can never match). */
export function lookupOf(token: string): string | null {
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

/**
 * Where the HMAC key comes from: APP_PASSWORD_PEPPER when set, else HKDF-SHA256 over AUTH_SECRET
 * with a label of its own. HKDF's `info` separates domains: the derived key reveals nothing about
 * AUTH_SECRET (and the reverse), so no JWT key is ever used as an HMAC key as is. Both inputs
 * are ≥ 32-character secrets, as HKDF needs. Changing the one in use invalidates every app password.
 */
export function appPasswordKey(config: {
  APP_PASSWORD_PEPPER?: string | undefined;
  AUTH_SECRET: string;
}): Buffer {
  if (config.APP_PASSWORD_PEPPER) return Buffer.from(config.APP_PASSWORD_PEPPER, "utf8");
  return Buffer.from(hkdfSync("sha256", config.AUTH_SECRET, "irc.now", "app-password-hmac/v1", 32));
}

/**
 * Why HMAC-SHA256 and not bcrypt/argon2: slow hashes exist to make guessing low-entropy,
 * human-chosen passwords expensive. Our tokens carry 190 random bits, so guessing is hopeless
 * at any hash speed, and a slow hash would only cost CPU on every IRC client connect (the auth
 * endpoint's hot path). The server-side key means a stolen DB dump alone cannot even check a
 * candidate token. The comparison is constant-time so a timing channel leaks no hash bytes.
 */
export class AppPasswordHasher {
  constructor(private readonly key: Buffer) {}

  hash(token: string): string {
    return createHmac("sha256", this.key).update(token, "utf8").digest("hex");
  }

  matches(token: string, storedHex: string): boolean {
    const expected = Buffer.from(storedHex, "hex");
    const actual = createHmac("sha256", this.key).update(token, "utf8").digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

// ---------------------------------------------------------------------------------------
// Inputs and views
// ---------------------------------------------------------------------------------------

export const appPasswordLabelSchema = z
  .string({ error: "Enter a label, e.g. the device and client it is for." })
  .trim()
  .min(1, "Enter a label, e.g. the device and client it is for.")
  .max(64, "Use at most 64 characters.")
  // Printable only: no control, format or unassigned characters (they hide in lists and logs).
  .regex(/^\P{C}+$/u, "Use only printable characters.");

export const createAppPasswordInput = z.object({
  label: appPasswordLabelSchema,
  /** Days until it stops working; null: never. */
  expiresInDays: z
    .union([z.literal(30), z.literal(90), z.literal(365)], {
      error: "Choose never, 30, 90 or 365 days.",
    })
    .nullable(),
  /** One of the user's bouncers; null: all of them. */
  bouncer: bouncerNameSchema.nullable(),
});
export type CreateAppPasswordInput = z.infer<typeof createAppPasswordInput>;

export const appPasswordView = z.object({
  id: z.string(),
  label: z.string(),
  bouncer: z.string().nullable(),
  createdAt: z.date(),
  expiresAt: z.date().nullable(),
  expired: z.boolean(),
  lastUsedAt: z.date().nullable(),
  lastUsedFrom: z.string().nullable(),
});
export type AppPasswordView = z.infer<typeof appPasswordView>;

function toView(row: accounts.AppPassword, now = new Date()): AppPasswordView {
  return {
    id: row.id,
    label: row.label,
    bouncer: row.bouncer,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    expired: row.expiresAt !== null && row.expiresAt <= now,
    lastUsedAt: row.lastUsedAt,
    lastUsedFrom: row.lastUsedFrom,
  };
}

// ---------------------------------------------------------------------------------------
// Operations (always on the caller's own passwords: there is no admin variant)
// ---------------------------------------------------------------------------------------

const limiters = new WeakMap<AccountsDb, RateLimiter>();
function createLimiter(db: AccountsDb): RateLimiter {
  let limiter = limiters.get(db);
  if (!limiter) limiters.set(db, (limiter = rateLimiter(db, CREATE_LIMIT)));
  return limiter;
}

/** Not revoked (expired ones still count until revoked: they are listed, so the list stays bounded). */
const kept = (userId: string) =>
  and(eq(accounts.appPasswords.userId, userId), isNull(accounts.appPasswords.revokedAt));

export async function listAppPasswords(
  ctx: Pick<DomainContext, "db">,
  actor: Actor,
): Promise<AppPasswordView[]> {
  const rows = await ctx.db
    .select()
    .from(accounts.appPasswords)
    .where(kept(actor.id))
    .orderBy(asc(accounts.appPasswords.createdAt), asc(accounts.appPasswords.id));
  const now = new Date();
  return rows.map((r) => toView(r, now));
}

/**
 * Creates an app password and returns its token: the only time anyone sees it. The cap check
 * and the insert run under a per-user advisory lock, so two concurrent requests cannot both
 * slip under it.
 */
export async function createAppPassword(
  ctx: Pick<DomainContext, "db" | "bouncers">,
  hasher: AppPasswordHasher,
  actor: Actor,
  input: CreateAppPasswordInput,
): Promise<{ password: AppPasswordView; token: string }> {
  const { label, expiresInDays, bouncer } = createAppPasswordInput.parse(input);
  if (bouncer !== null) {
    const cr = await ctx.bouncers.get(bouncer);
    if (!cr || cr.metadata.labels?.[LABEL_OWNER] !== actor.id)
      throw new DomainError("NOT_FOUND", `You have no bouncer named "${bouncer}".`);
  }
  try {
    await createLimiter(ctx.db).consume(actor.id);
  } catch (error) {
    if (error instanceof RateLimited)
      throw new DomainError(
        "RATE_LIMITED",
        `You have created many app passwords in a short time. Please try again in ${Math.ceil(error.retryAfterS / 60)} minute${error.retryAfterS > 60 ? "s" : ""}.`,
      );
    throw error;
  }
  const { token, lookup } = generateAppPassword();
  const row = await ctx.db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${"app-password-create:" + actor.id}, 0))`,
    );
    const [{ n } = { n: 0 }] = await tx
      .select({ n: count() })
      .from(accounts.appPasswords)
      .where(kept(actor.id));
    if (n >= MAX_APP_PASSWORDS)
      throw new DomainError(
        "PRECONDITION_FAILED",
        `You already have ${MAX_APP_PASSWORDS} app passwords, the most you can have. Revoke one you no longer use, then create the new one.`,
      );
    const [created] = await tx
      .insert(accounts.appPasswords)
      .values({
        userId: actor.id,
        label,
        lookup,
        secretHash: hasher.hash(token),
        bouncer,
        expiresAt:
          expiresInDays === null ? null : sql`now() + make_interval(days => ${expiresInDays})`,
      })
      .returning();
    return created!;
  });
  return { password: toView(row), token };
}

/** Revokes one of the caller's app passwords: the next login with it is refused. */
export async function revokeAppPassword(
  ctx: Pick<DomainContext, "db">,
  actor: Actor,
  id: string,
): Promise<{ revoked: string }> {
  const [row] = await ctx.db
    .update(accounts.appPasswords)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(accounts.appPasswords.id, id), kept(actor.id)))
    .returning({ label: accounts.appPasswords.label });
  if (!row) throw new DomainError("NOT_FOUND", "That app password does not exist any more.");
  return { revoked: row.label };
}
