import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";

export class TenantSecretError extends Error {
  override readonly name = "TenantSecretError";
}

const decode = (secret: V1Secret, key: string): string | undefined => {
  const value = secret.data?.[key] ?? undefined;
  if (value !== undefined) return Buffer.from(value, "base64").toString("utf8");
  return secret.stringData?.[key];
};

/**
 * The tenant DB URL from a CloudNativePG-style app secret: `uri` when present, else composed from
 * `host`, `port`, `dbname`, `user`, `password`. Errors name the secret and the missing keys,
 * never a value.
 */
export function tenantDbUrlFromSecret(secret: V1Secret): string {
  const name = secret.metadata?.name ?? "(unnamed secret)";
  const uri = decode(secret, "uri");
  if (uri) {
    if (!/^postgres(ql)?:\/\//.test(uri))
      throw new TenantSecretError(`secret ${name}: key "uri" is not a postgresql:// URL`);
    return uri;
  }
  const fields = ["host", "port", "dbname", "user", "password"] as const;
  const values = Object.fromEntries(fields.map((f) => [f, decode(secret, f)]));
  const missing = fields.filter((f) => !values[f]);
  if (missing.length > 0) {
    throw new TenantSecretError(
      `secret ${name}: no "uri" key and missing ${missing.map((m) => `"${m}"`).join(", ")}`,
    );
  }
  const url = new URL("postgresql://placeholder");
  url.hostname = values.host!;
  url.port = values.port!;
  url.username = encodeURIComponent(values.user!);
  url.password = encodeURIComponent(values.password!);
  url.pathname = `/${encodeURIComponent(values.dbname!)}`;
  return url.toString();
}

/** Reads `{name}-db` (created by the operator) and returns the bouncer's tenant DB URL. */
export async function readTenantDbUrl(
  core: CoreV1Api,
  namespace: string,
  bouncer: string,
): Promise<string> {
  const secret = await core.readNamespacedSecret({ name: `${bouncer}-db`, namespace });
  return tenantDbUrlFromSecret(secret);
}
