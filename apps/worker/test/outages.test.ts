import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { createLogger } from "../src/logger";
import { wire, type Wiring } from "../src/wiring";
import { quickController } from "./support/controller";
import { gate, holdAt } from "./support/gates";
import { NS, startHarness, until, type Harness } from "./support/harness";
import { startTcpProxy, type TcpProxy } from "@irc-now/db/testing";

/**
 * Issue 10 items 4 and the fault matrix: a hung or restarting accounts DB never pins a setup or
 * loses one. The worker under test reaches PostgreSQL through a proxy that can stall (a hung
 * server) or cut every connection and refuse new ones for a while (a restart, as clients see it).
 */
let h: Harness;
let proxy: TcpProxy;
let w: Wiring;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
  const target = new URL(h.env.DATABASE_URL!);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  w = wire(
    { ...h.config, DATABASE_URL: proxy.via(h.env.DATABASE_URL!) },
    createLogger("silent", "proxied-worker"),
    { identity: "proxied", statementTimeoutMs: 1_000 },
  );
  w.deps.settings = h.w.deps.settings;
});
afterAll(async () => {
  await w?.close();
  await proxy?.close();
  await h?.stop();
});

async function readyBouncer(name: string) {
  await h.createBouncer(name);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
}

const attemptsOf = async (name: string) => {
  const uid = (await h.w.bouncers.get(name))!.metadata.uid!;
  return h.w.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncerUid, uid))
    .orderBy(accounts.bouncerSetupAttempts.attemptNo);
};

describe("accounts DB outages", () => {
  it("a hung DB before a setup: the setup fails fast with a clear error instead of hanging", async () => {
    await readyBouncer("hung-a");
    proxy.stall();
    const started = Date.now();
    try {
      const error = await reconcileBouncer(w.deps, "hung-a").then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/timeout/i);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      proxy.up();
    }
    expect((await reconcileBouncer(w.deps, "hung-a")).result).toMatchObject({
      outcome: "succeeded",
    });
  });

  it("a DB that hangs mid-setup: the step times out, nothing is annotated, and the retry succeeds", async () => {
    await readyBouncer("hung-b");
    const g = gate();
    const held = reconcileBouncer(
      { ...w.deps, ergo: holdAt(w.deps.ergo, "register", g) },
      "hung-b",
    );
    await g.reached;
    proxy.stall();
    const started = Date.now();
    g.open();
    const { result, next } = await held;
    proxy.up();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result).toMatchObject({ outcome: "failed", configured: false });
    expect(next).toBe("retry");
    expect(h.annotations("hung-b")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    const again = await reconcileBouncer(w.deps, "hung-b");
    expect(again.result).toMatchObject({ outcome: "succeeded" });
    // The attempt whose end could not be written is closed, not left running forever.
    const rows = await attemptsOf("hung-b");
    expect(rows.map((r) => r.outcome)).toEqual(["failed", "succeeded"]);
  });

  it("the DB going down right after the annotation: the setup still succeeds, its record is written later", async () => {
    await readyBouncer("after-annotate");
    const bouncers = new Proxy(w.deps.bouncers, {
      get(target, key) {
        const value = Reflect.get(target, key) as (...a: unknown[]) => Promise<unknown>;
        if (key !== "markConfigured") return value.bind(target);
        return async (...args: unknown[]) => {
          const annotated = await value.apply(target, args);
          proxy.down();
          return annotated;
        };
      },
    });
    try {
      const { result, next } = await reconcileBouncer({ ...w.deps, bouncers }, "after-annotate");
      expect(result).toMatchObject({ outcome: "succeeded" });
      expect(next).toBe("done");
    } finally {
      proxy.up();
    }
    expect(await w.deps.recorder.flush()).toBe(0);
    expect((await attemptsOf("after-annotate")).map((r) => [r.outcome, r.stepReached])).toEqual([
      ["succeeded", "done"],
    ]);
  });

  it("the DB restarting in the middle of 50 setups: none lost, none left running, all authenticated", async () => {
    const names = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
    const controller = quickController(w);
    controller.start();
    try {
      for (const name of names) await h.createBouncer(name);
      const annotated = () =>
        names.filter((n) => h.annotations(n)[ANNOTATION_UPSTREAM_CONFIGURED] === "true").length;
      await until(() => annotated() >= 5, "the first setups to finish", 120_000);
      expect(annotated()).toBeLessThan(names.length);
      proxy.down(); // every session ends, new connections are refused…
      await new Promise((r) => setTimeout(r, 3_000));
      proxy.up(); // …and the DB is back
      const progress = setInterval(
        () => console.log(`annotated ${annotated()}/${names.length}`, controller.queue.size),
        5_000,
      );
      await until(() => annotated() === names.length, "every bouncer annotated", 240_000);
      clearInterval(progress);
      const s = accounts.bouncerUpstreamStates;
      await until(
        async () => {
          const rows = await h.w.db
            .select()
            .from(s)
            .where(and(eq(s.namespace, NS), eq(s.state, "authenticated")));
          return names.every((n) => rows.some((r) => r.bouncer === n));
        },
        "every bouncer authenticated",
        120_000,
      );
      const a = accounts.bouncerSetupAttempts;
      await until(
        async () => (await h.w.db.select().from(a).where(eq(a.outcome, "running"))).length === 0,
        "no attempt left running",
        30_000,
      );
      await controller.stop();
      for (const name of names) {
        const rows = await attemptsOf(name);
        const last = rows.at(-1)!;
        expect({ name, outcome: last.outcome, error: last.error }).toEqual({
          name,
          outcome: "succeeded",
          error: null,
        });
        // setups of one bouncer never overlapped
        for (let i = 1; i < rows.length; i++)
          expect(rows[i - 1]!.finishedAt!.getTime()).toBeLessThanOrEqual(
            rows[i]!.startedAt.getTime(),
          );
        // earlier attempts ended failed with a reason (a stale one as interrupted)
        for (const r of rows.slice(0, -1)) {
          expect(r.outcome).toBe("failed");
          expect(r.error ?? "").not.toBe("");
        }
      }
    } finally {
      await controller.stop();
    }
  }, 600_000);
});

describe("Kubernetes outages", () => {
  let k: Wiring;
  beforeAll(() => {
    k = wire(h.config, createLogger("silent", "short-deadlines"), {
      identity: "short-deadlines",
      kubeRequestTimeoutMs: 1_000,
      execOpenTimeoutMs: 1_000,
      sojuCommandTimeoutMs: 3_000,
    });
    k.deps.settings = h.w.deps.settings;
  });
  afterAll(async () => {
    await k?.close();
  });

  it("a hung apiserver call times out with a clear error; the worker goes on once it answers", async () => {
    await readyBouncer("kube-hang");
    const hang = h.kube.faults.hangRequests(undefined, { match: (r) => !r.query.has("watch") });
    const started = Date.now();
    try {
      const error = await reconcileBouncer(k.deps, "kube-hang").then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/did not answer within 1000 ms|timed? ?out/i);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      hang.release();
    }
    expect((await reconcileBouncer(k.deps, "kube-hang")).result).toMatchObject({
      outcome: "succeeded",
    });
  });

  it("a hung credential read mid-setup fails that step (retryable), never annotating", async () => {
    await readyBouncer("secret-hang");
    const hang = h.kube.faults.hangRequests(undefined, {
      match: (r) => r.path.includes("/secrets/irc-now-ergo-"),
    });
    try {
      const { result, next } = await reconcileBouncer(k.deps, "secret-hang");
      expect(result).toMatchObject({ outcome: "failed", step: "choose_password" });
      expect(next).toBe("retry");
    } finally {
      hang.release();
    }
    expect(h.annotations("secret-hang")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    expect((await reconcileBouncer(k.deps, "secret-hang")).result).toMatchObject({
      outcome: "succeeded",
    });
  });

  it("a hung exec (soju's pod never answers the upgrade) times out; the retry configures soju", async () => {
    await readyBouncer("exec-hang");
    const hang = h.kube.faults.hangRequests(undefined, { match: (r) => r.upgrade });
    const started = Date.now();
    try {
      const { result, next } = await reconcileBouncer(k.deps, "exec-hang");
      expect(result).toMatchObject({ outcome: "failed", step: "apply_soju_network" });
      expect(result).toHaveProperty("error", expect.stringMatching(/exec|open|within/i));
      expect(next).toBe("retry");
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      hang.release();
    }
    expect((await reconcileBouncer(k.deps, "exec-hang")).result).toMatchObject({
      outcome: "succeeded",
    });
  });
});
