import { httpBatchLink, loggerLink, TRPCClientError, type TRPCLink } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "~/server/api/root";

/**
 * An answer the app expects and shows to the person (a bad name, a taken name, a quota, a
 * session that ended): any tRPC error the server answered with a status below 500.
 */
export function isExpectedError(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return false;
  const status = (error.data as { httpStatus?: unknown } | undefined)?.httpStatus;
  return typeof status === "number" && status < 500;
}

/**
 * The browser's tRPC links. In development the logger reports failures in the console, but only
 * unexpected ones (5xx, no answer): an expected error is shown on the page, and a console error
 * would light up Next's dev overlay and be copied into the terminal as `[object Error]`.
 */
export function appLinks({
  dev,
  url = "/api/trpc",
  fetch,
}: {
  dev: boolean;
  url?: string;
  fetch?: typeof globalThis.fetch;
}): TRPCLink<AppRouter>[] {
  return [
    loggerLink({
      enabled: (op) =>
        dev && op.direction === "down" && op.result instanceof Error && !isExpectedError(op.result),
    }),
    httpBatchLink({ url, transformer: superjson, ...(fetch ? { fetch } : {}) }),
  ];
}
