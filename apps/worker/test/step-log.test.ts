import { describe, expect, it } from "vitest";
import type { SetupStep } from "../src/bouncers/attempts";
import { StepLog } from "../src/bouncers/step-log";
import { gate } from "./support/gates";

/** A recorder port that keeps what it was asked to write; `hold` keeps the first write open. */
function recorderPort(hold?: { wait(): Promise<void> }) {
  const written: SetupStep[] = [];
  let first = true;
  return {
    written,
    step: async (_id: number, step: SetupStep) => {
      if (first && hold) {
        first = false;
        await hold.wait();
      }
      written.push(step);
    },
  };
}

describe("StepLog", () => {
  it("writes steps in order, and the ones entered during a write as one: the latest", async () => {
    const held = gate();
    const recorder = recorderPort(held);
    const log = new StepLog(recorder, Promise.resolve({ id: 1 }));
    log.step("wait_for_soju_user");
    await held.reached; // that write is on its way to the DB…
    log.step("choose_password");
    log.step("ensure_ergo_account");
    log.step("verify_ergo_credentials"); // …while the setup goes three steps further
    held.open();
    expect(await log.settled()).toBeUndefined();
    expect(recorder.written).toEqual(["wait_for_soju_user", "verify_ergo_credentials"]);
    log.step("apply_soju_network");
    expect(await log.settled()).toBeUndefined();
    expect(recorder.written.at(-1)).toBe("apply_soju_network");
  });

  it("a failed write is reported with its step, and nothing is written after it", async () => {
    const written: SetupStep[] = [];
    const log = new StepLog(
      {
        step: async (_id, step) => {
          if (step === "choose_password") throw new Error("the accounts DB is restarting");
          written.push(step);
        },
      },
      Promise.resolve({ id: 1 }),
    );
    log.step("wait_for_soju_user");
    await log.settled();
    log.step("choose_password");
    await log.settled();
    log.step("ensure_ergo_account");
    const failure = await log.settled();
    expect(failure?.step).toBe("choose_password");
    expect(String(failure?.error)).toContain("restarting");
    expect(log.failed?.step).toBe("choose_password");
    expect(written).toEqual(["wait_for_soju_user"]);
  });

  it("an attempt row that never came is the failure of the first step", async () => {
    const recorder = recorderPort();
    const log = new StepLog(recorder, Promise.reject(new Error("no attempt row")));
    log.step("wait_for_soju_user");
    const failure = await log.settled();
    expect(failure?.step).toBe("read_secret");
    expect(recorder.written).toEqual([]);
  });
});
