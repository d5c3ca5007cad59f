import { and, eq, isNull } from "drizzle-orm";
import type { ZodError } from "zod";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import {
  accountPortalClient,
  defaultServiceAccounts,
  startKeycloakStandin,
  type KeycloakStandin,
} from "@irc-now/standins/keycloak";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { createKeycloakAdmin, type KeycloakAdmin } from "@irc-now/keycloak";
import { PRO_ONLY_EXPIRY, updateProfile } from "~/server/domain/profile";
import { profileFieldErrors } from "~/server/domain/profile-schema";
import { recordLogin } from "~/server/domain/users";
import { sessionFor, trpcError, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// The profile through tRPC, as the page calls it: the accounts DB is real, Keycloak is the
// stand-in reached by the web's own admin client (KEYCLOAK_ADMIN_CLIENT_ID/_SECRET from env).
let world: World;
let kc: KeycloakStandin;
const admin = defaultServiceAccounts()[0]!;

async function signUp(username: string, email: string, name = "Some One") {
  const [firstName, lastName] = name.split(" ");
  const kcUser = kc.addUser({
    username,
    password: "pw",
    email,
    firstName,
    lastName,
    emailVerified: true,
  });
  const user = await recordLogin(world.db, {
    subject: kcUser.id,
    username,
    email,
    displayName: name,
  });
  // The login's own push is not what these tests look at: count it as delivered.
  await world.db
    .update(accounts.keycloakOutbox)
    .set({ deliveredAt: new Date() })
    .where(eq(accounts.keycloakOutbox.userId, user.id));
  return { user, kcUser, caller: createCaller(createTRPCContext(sessionFor(user.id, username))) };
}

const pendingRows = (userId: string) =>
  world.db
    .select()
    .from(accounts.keycloakOutbox)
    .where(
      and(eq(accounts.keycloakOutbox.userId, userId), isNull(accounts.keycloakOutbox.deliveredAt)),
    );

const userRow = async (id: string) =>
  (await world.db.select().from(accounts.users).where(eq(accounts.users.id, id)))[0]!;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  kc = await startKeycloakStandin({
    clients: [accountPortalClient("http://127.0.0.1:3000")],
    serviceAccounts: [admin],
    users: [{ username: "taken", password: "pw", email: "taken@example.org" }],
    log: () => undefined,
  });
  useWebEnv(world, {
    KEYCLOAK_ISSUER: kc.issuer,
    KEYCLOAK_ADMIN_CLIENT_ID: admin.clientId,
    KEYCLOAK_ADMIN_CLIENT_SECRET: admin.clientSecret,
  });
});
afterAll(async () => {
  await kc?.stop();
  await world?.stop();
});

describe("profile.get", () => {
  it("shows the name, email, plan and what other services are told about content", async () => {
    const { caller } = await signUp("pget", "pget@example.org", "Pat Get");
    expect(await caller.profile.get()).toEqual({
      username: "pget",
      displayName: "Pat Get",
      email: "pget@example.org",
      plan: "free",
      contentAutoExpire: true,
      contentExpires: true,
      syncPending: false,
    });
  });
});

describe("profile.update: name and content setting", () => {
  it("saves the display name with exactly one pending outbox row, even while Keycloak is down", async () => {
    const { user, caller } = await signUp("pdown", "pdown@example.org", "Pat Down");
    const outage = await kc.outage();
    try {
      const result = await caller.profile.update({
        displayName: "  Pat Renamed  ",
        email: "pdown@example.org",
        contentAutoExpire: true,
      });
      expect(result).toMatchObject({ saved: true, fieldErrors: {}, emailVerificationSent: false });
      expect(result.profile).toMatchObject({ displayName: "Pat Renamed", syncPending: true });
    } finally {
      await outage.restore();
    }
    expect((await userRow(user.id)).displayName).toBe("Pat Renamed");
    expect((await pendingRows(user.id)).map((r) => r.reason)).toEqual(["profile"]);
  });

  it("saves an empty name as none (the username is shown), and writes no row when nothing changed", async () => {
    const { user, caller } = await signUp("pempty", "pempty@example.org", "Pat Empty");
    await caller.profile.update({
      displayName: "",
      email: "pempty@example.org",
      contentAutoExpire: true,
    });
    expect((await userRow(user.id)).displayName).toBeNull();
    await caller.profile.update({
      displayName: " ",
      email: "PEMPTY@example.org",
      contentAutoExpire: true,
    });
    expect(await pendingRows(user.id)).toHaveLength(1);
    expect(kc.sentEmails("pempty")).toEqual([]);
  });

  it("refuses to let a free user turn content expiry off, and saves nothing of that request", async () => {
    const { user, caller } = await signUp("pfree", "pfree@example.org", "Pat Free");
    const result = await caller.profile.update({
      displayName: "Pat Sneaky",
      email: "pfree@example.org",
      contentAutoExpire: false,
    });
    expect(result).toMatchObject({
      saved: false,
      fieldErrors: { contentAutoExpire: PRO_ONLY_EXPIRY },
    });
    expect(await userRow(user.id)).toMatchObject({
      displayName: "Pat Free",
      contentAutoExpire: true,
    });
    expect(await pendingRows(user.id)).toEqual([]);
  });

  it("lets a pro user keep their content (content_expires false)", async () => {
    const { user, caller } = await signUp("ppro", "ppro@example.org", "Pat Pro");
    await world.db
      .update(accounts.users)
      .set({ plan: "pro" })
      .where(eq(accounts.users.id, user.id));
    const result = await caller.profile.update({
      displayName: "Pat Pro",
      email: "ppro@example.org",
      contentAutoExpire: false,
    });
    expect(result.profile).toMatchObject({ contentAutoExpire: false, contentExpires: false });
    expect((await pendingRows(user.id)).map((r) => r.reason)).toEqual(["profile"]);
  });
});

describe("profile.update: validation", () => {
  it("names the field of each problem, in words, and saves nothing", async () => {
    const { user, caller } = await signUp("pvalid", "pvalid@example.org", "Pat Valid");
    const bad = { displayName: "a\u0007b", email: "not-an-email", contentAutoExpire: true };
    const error = await trpcError(caller.profile.update(bad));
    expect(error.code).toBe("BAD_REQUEST");
    const byField = Object.fromEntries(
      (error.cause as ZodError).issues.map((i) => [i.path.join("."), i.message]),
    );
    expect(byField).toEqual({
      displayName:
        "Your display name cannot contain line breaks, tabs or other control characters.",
      email: "Enter an email address like name@example.com.",
    });
    // The same rules run in the browser, with the same words.
    expect(profileFieldErrors(bad)).toEqual(byField);
    expect(profileFieldErrors({ ...bad, displayName: "é".repeat(65), email: "" })).toEqual({
      displayName: "Use at most 64 characters for your display name.",
      email: "Enter your email address.",
    });
    // 64 characters of a name made of surrogate pairs is still 64 characters.
    expect(
      profileFieldErrors({
        displayName: "🦊".repeat(64),
        email: "a@b.co",
        contentAutoExpire: true,
      }),
    ).toEqual({});
    expect(await userRow(user.id)).toMatchObject({
      displayName: "Pat Valid",
      email: "pvalid@example.org",
    });
    expect(await pendingRows(user.id)).toEqual([]);
  });
});

describe("profile.update: email through Keycloak", () => {
  it("changes the email in Keycloak (unverified) and sends VERIFY_EMAIL, then in the accounts DB", async () => {
    const { user, kcUser, caller } = await signUp("pmail", "pmail@example.org", "Pat Mail");
    const result = await caller.profile.update({
      displayName: "Pat Mail",
      email: "Pat.New@Example.org",
      contentAutoExpire: true,
    });
    expect(result).toMatchObject({ saved: true, fieldErrors: {}, emailVerificationSent: true });
    expect(kc.getUser(kcUser.id)).toMatchObject({
      email: "pat.new@example.org",
      emailVerified: false,
    });
    expect(kc.sentEmails("pmail").map((e) => [e.email, e.actions])).toEqual([
      ["pat.new@example.org", ["VERIFY_EMAIL"]],
    ]);
    expect((await userRow(user.id)).email).toBe("pat.new@example.org");
  });

  it("shows a duplicate email (Keycloak's 409) on the email field, keeps the old one, saves the rest", async () => {
    const { user, kcUser, caller } = await signUp("pdup", "pdup@example.org", "Pat Dup");
    const result = await caller.profile.update({
      displayName: "Pat Duplicate",
      email: "taken@example.org",
      contentAutoExpire: true,
    });
    expect(result.fieldErrors).toEqual({
      email: "This email address is already used by another account.",
    });
    expect(result.emailVerificationSent).toBe(false);
    expect(await userRow(user.id)).toMatchObject({
      email: "pdup@example.org",
      displayName: "Pat Duplicate",
    });
    expect(kc.getUser(kcUser.id)).toMatchObject({ email: "pdup@example.org", emailVerified: true });
    expect(kc.sentEmails("pdup")).toEqual([]);
  });

  it("with Keycloak down: the email is refused in words, the name is still saved, and no secret shows", async () => {
    const { user, kcUser, caller } = await signUp("poff", "poff@example.org", "Pat Off");
    const outage = await kc.outage();
    let result;
    try {
      result = await caller.profile.update({
        displayName: "Pat Offline",
        email: "poff-new@example.org",
        contentAutoExpire: true,
      });
    } finally {
      await outage.restore();
    }
    expect(result.fieldErrors.email).toMatch(
      /need the sign-in service.*try the email again shortly/,
    );
    expect(JSON.stringify(result)).not.toContain(admin.clientSecret);
    expect(await userRow(user.id)).toMatchObject({
      email: "poff@example.org",
      displayName: "Pat Offline",
    });
    expect((await pendingRows(user.id)).map((r) => r.reason)).toEqual(["profile"]);
    expect(kc.getUser(kcUser.id)?.email).toBe("poff@example.org");
  });
});

describe("profile.update: order of the email change and the outbox row", () => {
  it("changes the email in Keycloak before the outbox row exists (the worker's push writes the email back as it reads it)", async () => {
    const { user } = await signUp("porder", "porder@example.org", "Pat Order");
    const real = createKeycloakAdmin({
      issuer: kc.issuer,
      clientId: admin.clientId,
      clientSecret: admin.clientSecret,
    });
    // The real client, watched at the port: when Keycloak has the new email, is a push queued yet?
    const rowsWhenEmailChanged: number[] = [];
    const watched: KeycloakAdmin = {
      ...real,
      async changeEmail(id, email) {
        await real.changeEmail(id, email);
        rowsWhenEmailChanged.push((await pendingRows(user.id)).length);
      },
    };
    const result = await updateProfile({ db: world.db, keycloak: watched }, user, {
      displayName: "Pat Reordered",
      email: "porder-new@example.org",
      contentAutoExpire: true,
    });
    expect(result).toMatchObject({ saved: true, fieldErrors: {}, emailVerificationSent: true });
    expect(rowsWhenEmailChanged).toEqual([0]);
    expect((await pendingRows(user.id)).map((r) => r.reason)).toEqual(["profile"]);
  });
});

describe("profile.update: email change budget", () => {
  it("allows 5 email changes an hour; a change Keycloak could not make does not count", async () => {
    const { user, caller } = await signUp("plimit", "plimit@example.org", "Pat Limit");
    const change = (email: string) =>
      caller.profile.update({ displayName: "Pat Limit", email, contentAutoExpire: true });
    // A duplicate (409) is refused by Keycloak: its point is given back.
    expect((await change("taken@example.org")).fieldErrors.email).toMatch(/already used/);
    for (let i = 1; i <= 5; i++)
      expect(await change(`plimit${i}@example.org`)).toMatchObject({
        fieldErrors: {},
        emailVerificationSent: true,
      });
    const sixth = await change("plimit6@example.org");
    expect(sixth.fieldErrors.email).toMatch(
      /several times in the last hour.*try again in \d+ minutes?/,
    );
    expect((await userRow(user.id)).email).toBe("plimit5@example.org");
    expect(kc.sentEmails("plimit")).toHaveLength(5);
  });
});
