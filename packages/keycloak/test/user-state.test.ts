import { describe, expect, it } from "vitest";
import { keycloakUserState } from "../src/user-state";

describe("keycloakUserState", () => {
  it("free users' content always expires, whatever their stored setting", () => {
    expect(
      keycloakUserState({ plan: "free", contentAutoExpire: false, displayName: null }).attributes,
    ).toEqual({ plan: ["free"], content_expires: ["true"] });
  });

  it("pro users' content_expires is their setting", () => {
    expect(
      keycloakUserState({ plan: "pro", contentAutoExpire: false, displayName: "A" }).attributes,
    ).toEqual({ plan: ["pro"], content_expires: ["false"] });
    expect(
      keycloakUserState({ plan: "pro", contentAutoExpire: true, displayName: "A" }).attributes,
    ).toEqual({ plan: ["pro"], content_expires: ["true"] });
  });

  it("splits the display name at its first space so that `first last` gives it back", () => {
    const s = keycloakUserState({
      plan: "free",
      contentAutoExpire: true,
      displayName: " Jean Paul Sartre ",
    });
    expect([s.firstName, s.lastName]).toEqual(["Jean", "Paul Sartre"]);
    expect(`${s.firstName} ${s.lastName}`).toBe("Jean Paul Sartre");
    expect(
      keycloakUserState({ plan: "free", contentAutoExpire: true, displayName: "alice" }),
    ).toMatchObject({ firstName: "alice", lastName: "" });
    expect(
      keycloakUserState({ plan: "free", contentAutoExpire: true, displayName: null }),
    ).toMatchObject({ firstName: "", lastName: "" });
  });
});
