import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from "node:crypto";
import type { JWK } from "oidc-provider";

export interface SigningKey {
  /** Private JWK handed to oidc-provider (`jwks.keys[0]`). */
  readonly jwk: JWK;
  readonly kid: string;
  /** Public key for verifying tokens the stand-in issued (userinfo, admin API). */
  readonly publicKey: KeyObject;
}

/** A fresh RS256 signing key (Keycloak's default realm key algorithm). */
export function generateSigningJwk(): JWK {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return {
    ...jwk,
    kty: "RSA",
    kid: randomBytes(16).toString("base64url"),
    alg: "RS256",
    use: "sig",
  } as JWK;
}

export function signingKey(jwk: JWK = generateSigningJwk()): SigningKey {
  if (jwk.kty !== "RSA" || typeof jwk.kid !== "string") {
    throw new Error("the stand-in signs with an RSA JWK that has a kid");
  }
  const full: JWK = { ...jwk, alg: "RS256", use: "sig" };
  const privateKey = createPrivateKey({ key: full as JsonWebKey, format: "jwk" });
  return { jwk: full, kid: jwk.kid, publicKey: createPublicKey(privateKey) };
}

/** Keys for oidc-provider's signed cookies. */
export function generateCookieKeys(): string[] {
  return [randomBytes(32).toString("base64url")];
}
