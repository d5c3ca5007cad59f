import pino from "pino";
import { describe, expect, it } from "vitest";
import type { SojuBouncer } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import type { SetupDeps } from "../src/bouncers/setup";
import type { SojuAdmin } from "../src/ports/index";

/** Reconcile decisions that need no stand-in: the ports here are recording fakes. */
function depsWith(bouncer: SojuBouncer | null, released: string[]): SetupDeps {
  const unused = () => Promise.reject(new Error("not used"));
  return {
    bouncers: {
      get: async () => bouncer,
      list: unused,
      listByOwner: unused,
      markConfigured: unused,
    },
    soju: { release: async (name: string) => void released.push(name) } as unknown as SojuAdmin,
    log: pino({ level: "silent" }),
  } as unknown as SetupDeps;
}

describe("reconcile", () => {
  it("a deleted bouncer: its soju admin connection is released, nothing else happens", async () => {
    const released: string[] = [];
    expect(await reconcileBouncer(depsWith(null, released), "gone-one")).toEqual({
      decision: "gone",
      next: "done",
    });
    expect(released).toEqual(["gone-one"]);
  });

  it("a bouncer being deleted: released too", async () => {
    const released: string[] = [];
    const deleting: SojuBouncer = {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: {
        name: "going",
        deletionTimestamp: new Date().toISOString(),
      } as SojuBouncer["metadata"],
      spec: { username: "going", plan: "free" },
    };
    expect(await reconcileBouncer(depsWith(deleting, released), "going")).toMatchObject({
      decision: "deleting",
    });
    expect(released).toEqual(["going"]);
  });
});
