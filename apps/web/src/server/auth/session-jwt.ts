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
 */

const INFO = "NextAuth.js Generated Encryption Key";

let derived: { secret: Buffer; key: Promise<webcrypto.CryptoKey> } | undefined;

/** The AES-GCM key, imported once too (jose would import raw bytes again on every call). */
function encryptionKey(secret: string | Buffer): Promise<webcrypto.CryptoKey> {
  const material = typeof secret === "string" ? Buffer.from(secret) : secret;
  if (derived?.secret.equals(material)) return derived.key;
  const key = new Promise<ArrayBuffer>((resolve, reject) =>
    hkdf("sha256", material, "", INFO, 32, (error, bytes) =>
      error ? reject(error) : resolve(bytes),
    ),
  ).then((bytes) =>
    webcrypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["decrypt"]),
  );
  derived = { secret: Buffer.from(material), key };
  // A failed derivation is not kept (the next call tries again).
  key.catch(() => {
    if (derived?.key === key) derived = undefined;
  });
  return key;
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
  const { payload } = await jwtDecrypt<JWT>(token, await encryptionKey(secret), {
    clockTolerance: 15,
    keyManagementAlgorithms: ["dir"],
    contentEncryptionAlgorithms: ["A256GCM"],
  });
  return payload;
}
