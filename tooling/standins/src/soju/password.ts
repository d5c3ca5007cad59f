import bcrypt from "bcryptjs";
import { SojuError } from "./bouncer";

/** bcrypt.DefaultCost in Go's x/crypto/bcrypt. */
export const BCRYPT_COST = 10;

/**
 * database.User.SetPassword: a Go bcrypt hash at cost 10 (`$2a$10$…`, facts §3). bcryptjs writes
 * `$2b$`; for passwords of at most 72 bytes (all Go accepts) the two are the same computation.
 */
export async function hashPassword(password: string): Promise<string> {
  if (Buffer.byteLength(password, "utf8") > 72) {
    throw new SojuError("failed to hash password: bcrypt: password length exceeds 72 bytes");
  }
  const hash = await bcrypt.hash(password, BCRYPT_COST);
  return hash.replace(/^\$2b\$/, "$2a$");
}

/** Go's bcrypt accepts `$2a$`, `$2b$` and `$2y$`. */
export async function checkPassword(hash: string, password: string): Promise<boolean> {
  if (!/^\$2[aby]\$\d\d\$/.test(hash)) return false;
  return bcrypt.compare(password, hash.replace(/^\$2y\$/, "$2b$"));
}

/** soju re-hashes at cost 10 on login when the stored cost is lower (facts §3). */
export function needsRehash(hash: string): boolean {
  const match = /^\$2[aby]\$(\d\d)\$/.exec(hash);
  return match !== null && Number(match[1]) < BCRYPT_COST;
}
