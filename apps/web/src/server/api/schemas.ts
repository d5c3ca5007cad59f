import { z } from "zod";

/** Output schemas: procedures declare what they return, so nothing else leaks out. */
export const setupOutcome = z.enum(["running", "succeeded", "failed", "needs_admin"]);
export const bouncerPhase = z.enum([
  "provisioning",
  "ready",
  "needs_admin",
  "configured",
  "authenticated",
  "deleting",
]);

export const attemptSummary = z.object({
  attemptNo: z.number(),
  outcome: setupOutcome,
  step: z.string(),
  error: z.string().nullable(),
  startedAt: z.date(),
  finishedAt: z.date().nullable(),
});

export const upstreamSummary = z.object({
  state: z.enum(["authenticated", "unauthenticated", "disconnected", "unknown"]),
  account: z.string().nullable(),
  detail: z.string().nullable(),
  checkedAt: z.date(),
});

export const bouncerView = z.object({
  name: z.string(),
  uid: z.string().nullable(),
  username: z.string(),
  plan: z.enum(["free", "pro"]),
  ownerId: z.string().nullable(),
  createdAt: z.string().nullable(),
  phase: bouncerPhase,
  ready: z.boolean(),
  configured: z.boolean(),
  upstream: upstreamSummary.nullable(),
  lastAttempt: attemptSummary.nullable(),
  problem: z.string().nullable(),
  detail: z.string().nullable(),
  connection: z.object({
    host: z.string(),
    port: z.number(),
    tls: z.boolean(),
    username: z.string(),
  }),
});

/**
 * A bouncer as its owner sees it (domain/user-view.ts): plain words about the setup and what to
 * do; none of the worker's, soju's, ergo's or Kubernetes' texts (they name internals), which only
 * the admin views carry. The schema lists every field, so nothing else can leave.
 */
export const userBouncerView = z.object({
  name: z.string(),
  uid: z.string().nullable(),
  username: z.string(),
  plan: z.enum(["free", "pro"]),
  ownerId: z.string().nullable(),
  createdAt: z.string().nullable(),
  phase: bouncerPhase,
  ready: z.boolean(),
  configured: z.boolean(),
  upstream: upstreamSummary.omit({ detail: true }).nullable(),
  lastAttempt: attemptSummary.omit({ error: true }).nullable(),
  detail: z.string().nullable(),
  problem: z
    .object({
      step: z.string(),
      text: z.string(),
      action: z.enum(["wait", "contact_support"]),
      advice: z.string(),
    })
    .nullable(),
  suspension: z
    .object({ since: z.date(), text: z.string(), advice: z.string(), upgrade: z.boolean() })
    .nullable(),
  connection: bouncerView.shape.connection,
});

export const adminBouncerRow = bouncerView.extend({
  owner: z
    .object({ id: z.string(), username: z.string(), email: z.string().nullable() })
    .nullable(),
});

export const auditEntry = z.object({
  id: z.number(),
  actorUserId: z.string().nullable(),
  actorUsername: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.date(),
});

export const setupAttempt = z.object({
  id: z.number(),
  namespace: z.string(),
  bouncer: z.string(),
  bouncerUid: z.string().nullable(),
  attemptNo: z.number(),
  stepReached: z.string(),
  outcome: setupOutcome,
  error: z.string().nullable(),
  startedAt: z.date(),
  finishedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
  /** The worker replica that ran it. */
  runner: z.string().nullable(),
});

export const ergoAccountView = z.object({
  account: z.string(),
  owner: z.object({ id: z.string(), username: z.string() }).nullable(),
  ownership: z
    .object({
      ownerUserId: z.string(),
      ownerUsername: z.string().nullable(),
      origin: z.enum(["registered", "adopted"]),
      adoptedBy: z.string().nullable(),
      createdAt: z.date(),
    })
    .nullable(),
  ownedByBouncerOwner: z.boolean(),
  adopt: z.object({
    offered: z.boolean(),
    why: z.string().nullable(),
    kind: z.enum(["PRECONDITION_FAILED", "CONFLICT"]).nullable(),
  }),
});
