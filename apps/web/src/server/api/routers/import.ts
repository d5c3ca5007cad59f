import { z } from "zod";
import { env } from "~/env";
import type { DomainContext } from "../../domain/context";
import { importStatus, previewImport, startImport, type ImportContext } from "../../domain/import";
import { createTRPCRouter, protectedProcedure } from "../trpc";

function importContext(domain: DomainContext): ImportContext {
  const config = env();
  return {
    ...domain,
    import: {
      irccloudUrl: config.IRCCLOUD_URL,
      irccloudTimeoutMs: config.IRCCLOUD_TIMEOUT_S * 1000,
      secretKey: config.IMPORT_SECRET_KEY,
      maxUserNetworks: config.SOJU_MAX_USER_NETWORKS,
    },
  };
}

const stepState = z.enum(["pending", "applying", "done", "skipped", "failed"]);
const jobView = z.object({
  id: z.string(),
  state: z.enum(["queued", "running", "succeeded", "failed"]),
  bouncer: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
  steps: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(["bouncer", "ready", "network", "channel"]),
      label: z.string(),
      state: stepState,
      detail: z.string().nullable(),
    }),
  ),
  counts: z.object({
    done: z.number(),
    skipped: z.number(),
    failed: z.number(),
    pending: z.number(),
  }),
});

const previewView = z.object({
  jobId: z.string(),
  bouncer: z.string().nullable(),
  warnings: z.array(z.string()),
  networks: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      host: z.string(),
      port: z.number(),
      tls: z.boolean(),
      nick: z.string(),
      hasServerPassword: z.boolean(),
      hasNickserv: z.boolean(),
      selected: z.boolean(),
      warnings: z.array(z.string()),
      channels: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          archived: z.boolean(),
          keyed: z.boolean(),
          selected: z.boolean(),
          warnings: z.array(z.string()),
        }),
      ),
    }),
  ),
});

export const importRouter = createTRPCRouter({
  /** Signs in to IRCCloud with these credentials, this once, and returns what it would import. */
  preview: protectedProcedure
    .input(
      z.object({
        email: z.string().trim().min(1, "Enter your IRCCloud email.").max(254),
        password: z.string().min(1, "Enter your IRCCloud password.").max(1024),
      }),
    )
    .output(previewView)
    .mutation(({ ctx, input }) => previewImport(importContext(ctx.domain), ctx.actor, input)),

  start: protectedProcedure
    .input(z.object({ jobId: z.uuid(), selected: z.array(z.uuid()).max(10_000) }))
    .output(jobView)
    .mutation(({ ctx, input }) => startImport(importContext(ctx.domain), ctx.actor, input)),

  status: protectedProcedure
    .input(z.void())
    .output(z.object({ job: jobView.nullable() }))
    .query(async ({ ctx }) => ({ job: await importStatus(ctx.domain, ctx.actor) })),
});
