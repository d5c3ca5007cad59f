import type { Session } from "next-auth";
import { createTRPCClient, TRPCClientError } from "@trpc/client";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { appRouter, type AppRouter } from "~/server/api/root";
import { createTRPCContext, logUnexpectedError, type TRPCContext } from "~/server/api/trpc";
import { recordLogin } from "~/server/domain/users";
import { appLinks } from "~/trpc/links";
import { useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// What a developer sees in the terminal and the browser console, and what production logs,
// when a procedure fails: the route's onError on the server, the app's links in the browser.

let world: World;
let alice: Session;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
  const { id } = await recordLogin(world.db, { subject: "kc-alice-log", username: "alice" });
  alice = {
    user: { id, username: "alice", isAdmin: false },
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  };
});
afterAll(async () => {
  await world?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A browser-side client (the app's own links) talking to the route's handler over fetch. */
function clientFor(createContext: () => TRPCContext, dev: boolean) {
  const handler = (req: Request) =>
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req,
      router: appRouter,
      createContext,
      onError: logUnexpectedError,
    });
  return createTRPCClient<AppRouter>({
    links: appLinks({
      dev,
      url: "http://portal.test/api/trpc",
      fetch: async (input, init) => handler(new Request(input, init)),
    }),
  });
}

function consoleErrors(): string[][] {
  const calls: string[][] = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    calls.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))));
  });
  return calls;
}

async function failure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

describe("expected user errors are answers, not logged errors", () => {
  it("a bad bouncer name: 400 with the field's message; nothing in the server log or the dev console", async () => {
    const logged = consoleErrors();
    const client = clientFor(() => createTRPCContext(alice), true);
    const error = await failure(client.bouncer.create.mutate({ name: "Bad_Name!" }));
    expect(error.data).toMatchObject({
      code: "BAD_REQUEST",
      httpStatus: 400,
      fieldErrors: { name: "Use only lowercase letters, digits and hyphens." },
    });
    expect(logged).toEqual([]);
  });

  it("a missing bouncer, a wrong confirmation, a signed-out caller: not logged either", async () => {
    const logged = consoleErrors();
    const client = clientFor(() => createTRPCContext(alice), true);
    const missing = await failure(client.bouncer.byName.query({ name: "nobody" }));
    expect(missing.data?.code).toBe("NOT_FOUND");
    const confirm = await failure(
      client.bouncer.delete.mutate({ name: "nobody", confirmName: "somebody" }),
    );
    expect(confirm.data?.code).toBe("BAD_REQUEST");
    const signedOut = clientFor(() => createTRPCContext(null), true);
    expect((await failure(signedOut.bouncer.mine.query())).data?.code).toBe("UNAUTHORIZED");
    expect(logged).toEqual([]);
  });

  it("a failure on our side is logged once by the server (without the input) and, in development, in the console", async () => {
    const logged = consoleErrors();
    const broken = () => {
      throw new Error("accounts DB unreachable");
    };
    const error = await failure(
      clientFor(broken, true).bouncer.create.mutate({ name: "private-name" }),
    );
    expect(error.data?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.message).toBe("Something went wrong on our side. Please try again.");
    const server = logged.filter((args) => args.some((a) => a.startsWith("tRPC ")));
    expect(server).toEqual([["tRPC mutation bouncer.create failed: accounts DB unreachable"]]);
    // The dev logger reports it too (the developer should see it); the input is not logged by
    // the server.
    expect(logged.length).toBe(2);
    expect(server.flat().join(" ")).not.toContain("private-name");

    const quiet = consoleErrors();
    await failure(clientFor(broken, false).bouncer.create.mutate({ name: "private-name" }));
    // Production browsers: no console logging at all; the server still logs.
    expect(quiet).toEqual([["tRPC mutation bouncer.create failed: accounts DB unreachable"]]);
  });
});
