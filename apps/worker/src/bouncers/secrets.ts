/** Removes every occurrence of the given secrets from a text bound for a log line or the DB. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 3) out = out.split(secret).join("[redacted]");
  }
  return out;
}

export function errorText(error: unknown, secrets: readonly (string | undefined)[] = []): string {
  const message =
    error instanceof Error
      ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`
      : String(error);
  return scrub(message, secrets).slice(0, 2_000);
}
