import { decode, encode } from "next-auth/jwt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeSessionJwt } from "~/server/auth/session-jwt";

// The session cookie's decoder with the HKDF-derived key kept per process (issue 17): it must
// accept exactly what next-auth's own decode accepts, whatever secret came before.
const A = "session-jwt-test-secret-a-session-jwt-test-secret-a";
const B = "session-jwt-test-secret-b-session-jwt-test-secret-b";
const claims = { userId: "u-1", username: "alice", signedInAt: 1_700_000_000_000 };

afterEach(() => {
  vi.useRealTimers();
});

describe("decodeSessionJwt", () => {
  it("returns what next-auth's decode returns for next-auth's own cookie", async () => {
    const token = await encode({ token: claims, secret: A, maxAge: 60 });
    const ours = await decodeSessionJwt({ token, secret: A });
    expect(ours).toEqual(await decode({ token, secret: A }));
    expect(ours).toMatchObject(claims);
    // Again, now from the kept key.
    expect(await decodeSessionJwt({ token, secret: A })).toEqual(ours);
  });

  it("never decodes with a key kept for another secret", async () => {
    const ofA = await encode({ token: claims, secret: A });
    const ofB = await encode({ token: { ...claims, userId: "u-2" }, secret: B });
    await decodeSessionJwt({ token: ofA, secret: A });
    await expect(decodeSessionJwt({ token: ofB, secret: A })).rejects.toThrow();
    expect((await decodeSessionJwt({ token: ofB, secret: B }))?.userId).toBe("u-2");
    await expect(decodeSessionJwt({ token: ofA, secret: B })).rejects.toThrow();
    expect((await decodeSessionJwt({ token: ofA, secret: A }))?.userId).toBe("u-1");
  });

  it("refuses an expired, altered or foreign token, and reads none from nothing", async () => {
    await expect(
      decodeSessionJwt({
        token: await encode({ token: claims, secret: A, maxAge: -60 }),
        secret: A,
      }),
    ).rejects.toThrow();
    const token = await encode({ token: claims, secret: A });
    const parts = token.split(".");
    const cipher = parts[3]!;
    parts[3] = (cipher[0] === "A" ? "B" : "A") + cipher.slice(1);
    await expect(decodeSessionJwt({ token: parts.join("."), secret: A })).rejects.toThrow();
    await expect(decodeSessionJwt({ token: "not-a-jwt", secret: A })).rejects.toThrow();
    expect(await decodeSessionJwt({ token: "", secret: A })).toBeNull();
  });

  it("refuses a token it decoded before once it has expired (15 s tolerance, as next-auth)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = await encode({ token: claims, secret: A, maxAge: 60 });
    expect((await decodeSessionJwt({ token, secret: A }))?.userId).toBe("u-1");
    vi.setSystemTime(Date.now() + 70_000); // expired 10 s ago: within the tolerance
    expect((await decodeSessionJwt({ token, secret: A }))?.userId).toBe("u-1");
    vi.setSystemTime(Date.now() + 10_000);
    await expect(decodeSessionJwt({ token, secret: A })).rejects.toThrow(/exp/);
    await expect(decode({ token, secret: A })).rejects.toThrow(/exp/);
  });

  it("hands out copies: changing a decoded token changes nothing the next request reads", async () => {
    const token = await encode({ token: claims, secret: A });
    const first = (await decodeSessionJwt({ token, secret: A }))!;
    first.userId = "someone-else";
    delete first.username;
    const again = (await decodeSessionJwt({ token, secret: A }))!;
    expect(again).toMatchObject(claims);
    again.isAdmin = true;
    expect((await decodeSessionJwt({ token, secret: A }))?.isAdmin).toBeUndefined();
  });
});
