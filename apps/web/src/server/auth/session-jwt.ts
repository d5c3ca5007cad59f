import { hkdf, webcrypto } from "node:crypto";
import { jwtDecrypt } from "jose";
import type { JWT } from "next-auth/jwt";

/**
 * next-auth v4's session JWT decoding (`next-auth/jwt`'s `decode`: JWE `dir` + `A256GCM` under a
 * key derived from AUTH_SECRET with HKDF-SHA256, 15 s clock tolerance), with the derived key kept
 * per process. next-auth derives it again on every call, and every signed-in request decodes the
 * cookie twice (proxy.ts, then the page or route): the HKDF was a measurable share of the
 * dashboard's read path (issue 17). The key is a pure function of the secret, so caching it
 * changes nothing a token is checked for; a different secret gets its own key.
 *
 * Tokens decrypted lately are kept too (per secret, at most {@link DECODED_MAX}): a browser sends
 * the same cookie with every request and each request decodes it twice. A decryption is a pure
 * function of token and key, so only the time checks can change: `exp` and `nbf` are checked
 * again on every use, with the same tolerance. (The process holds AUTH_SECRET, which opens any
 * cookie, so keeping decrypted ones in memory exposes nothing more.)
 */

const INFO = "NextAuth.js Generated Encryption Key";
const CLOCK_TOLERANCE_S = 15;
export const DECODED_MAX = 500;

let derived:
  { secret: Buffer; key: Promise<webcrypto.CryptoKey>; decoded: Map<string, JWT> } | undefined;

/**
 * The AES-GCM key (imported once too: jose would import raw bytes again on every call) and the
 * tokens decrypted with it.
 */
function keyFor(secret: string | Buffer): NonNullable<typeof derived> {
  const material = typeof secret === "string" ? Buffer.from(secret) : secret;
  if (derived?.secret.equals(material)) return derived;
  const key = new Promise<ArrayBuffer>((resolve, reject) =>
    hkdf("sha256", material, "", INFO, 32, (error, bytes) =>
      error ? reject(error) : resolve(bytes),
    ),
  ).then((bytes) =>
    webcrypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["decrypt"]),
  );
  const entry = { secret: Buffer.from(material), key, decoded: new Map<string, JWT>() };
  derived = entry;
  // A failed derivation is not kept (the next call tries again).
  key.catch(() => {
    if (derived === entry) derived = undefined;
  });
  return entry;
}

/** jose's `exp` and `nbf` checks (epoch seconds, same tolerance), for a kept token. */
function checkTimes(payload: JWT): void {
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp === "number" && payload.exp <= now - CLOCK_TOLERANCE_S)
    throw new Error('"exp" claim timestamp check failed');
  if (typeof payload.nbf === "number" && payload.nbf > now + CLOCK_TOLERANCE_S)
    throw new Error('"nbf" claim timestamp check failed');
}

/** Drop-in for next-auth's `decode` (getToken's `decode` parameter): throws on any bad token. */
export async function decodeSessionJwt({
  token,
  secret,
}: {
  token?: string;
  secret: string | Buffer;
}): Promise<JWT | null> {
  if (!token) return null;
  const entry = keyFor(secret);
  const kept = entry.decoded.get(token);
  if (kept) {
    checkTimes(kept);
    return { ...kept };
  }
  const { payload } = await jwtDecrypt<JWT>(token, await entry.key, {
    clockTolerance: CLOCK_TOLERANCE_S,
    keyManagementAlgorithms: ["dir"],
    contentEncryptionAlgorithms: ["A256GCM"],
  });
  // Oldest out first (a Map iterates in insertion order).
  if (entry.decoded.size >= DECODED_MAX) entry.decoded.delete(entry.decoded.keys().next().value!);
  entry.decoded.set(token, { ...payload });
  return payload;
}
