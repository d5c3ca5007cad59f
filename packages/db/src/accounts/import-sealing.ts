import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * AES-256-GCM sealing of the secrets an import job holds until they are applied (network and
 * NickServ passwords, channel keys; import_items.sealed). The key is derived from
 * IMPORT_SECRET_KEY with HKDF; the job id is bound in as associated data, so a sealed value
 * copied to another job does not open. Format: `v1.<iv>.<ciphertext>.<tag>` (base64url).
 */
export interface ImportSecrets {
  serverPassword?: string;
  nickservAccount?: string;
  nickservPassword?: string;
  /** Channel keys by channel name (carried as the network's connect commands). */
  channelKeys?: Record<string, string>;
}

const INFO = "irc.now import sealing v1";

function keyOf(secretKey: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secretKey, Buffer.alloc(0), INFO, 32));
}

export function sealImportSecrets(
  secretKey: string,
  jobId: string,
  secrets: ImportSecrets,
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyOf(secretKey), iv);
  cipher.setAAD(Buffer.from(jobId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
  const b64 = (b: Buffer) => b.toString("base64url");
  return `v1.${b64(iv)}.${b64(ct)}.${b64(cipher.getAuthTag())}`;
}

/** Throws (without the value) when the key is wrong or the sealed text was altered. */
export function openImportSecrets(secretKey: string, jobId: string, sealed: string): ImportSecrets {
  const [version, iv, ct, tag] = sealed.split(".");
  if (version !== "v1" || !iv || !ct || !tag) throw new Error("sealed import secrets: bad format");
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      keyOf(secretKey),
      Buffer.from(iv, "base64url"),
    );
    decipher.setAAD(Buffer.from(jobId));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(ct, "base64url")),
      decipher.final(),
    ]).toString("utf8");
    return JSON.parse(plain) as ImportSecrets;
  } catch {
    throw new Error("sealed import secrets: cannot open (wrong IMPORT_SECRET_KEY or altered)");
  }
}
