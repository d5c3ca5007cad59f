import { z } from "zod";

/** Output schemas: procedures declare what they return, so nothing else leaks out. */
export const attemptSummary = z.object({
  attemptNo: z.number(),
  outcome: z.enum(["running", "succeeded", "failed"]),
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
  username: z.string(),
  plan: z.enum(["free", "pro"]),
  ownerId: z.string().nullable(),
  createdAt: z.string().nullable(),
  phase: z.enum(["provisioning", "ready", "configured", "authenticated", "deleting"]),
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
  attemptNo: z.number(),
  stepReached: z.string(),
  outcome: z.enum(["running", "succeeded", "failed"]),
  error: z.string().nullable(),
  startedAt: z.date(),
  finishedAt: z.date().nullable(),
  durationMs: z.number().nullable(),
});
