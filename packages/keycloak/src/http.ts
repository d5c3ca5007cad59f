import { KeycloakAdminError, type KeycloakErrorKind } from "./admin";

export type FetchFn = typeof fetch;

/** A whole answer: status and body, both read before the deadline. */
export interface Answer {
  status: number;
  text: string;
}

/**
 * One HTTP exchange with a deadline that covers the body too (AbortSignal.timeout). No answer
 * (refused, reset, DNS, timeout) is `unavailable`. `what` names the call in errors, e.g.
 * "GET /users/{id}"; it never holds a secret.
 */
export async function exchange(
  fetchFn: FetchFn,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<Answer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetchFn(url, { ...init, signal, redirect: "manual" });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (signal.aborted)
      throw new KeycloakAdminError(
        "unavailable",
        `Keycloak ${what}: no answer within ${timeoutMs} ms`,
      );
    throw new KeycloakAdminError("unavailable", `Keycloak ${what}: unreachable (${reason(err)})`);
  }
}

/** The low-level reason of a fetch failure (`ECONNREFUSED`, `other side closed`, …). */
function reason(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const code = (cause as { code?: unknown })?.code;
  if (typeof code === "string") return code;
  const message = cause instanceof Error ? cause.message : (err as Error)?.message;
  return typeof message === "string" ? message.slice(0, 120) : "network error";
}

export function kindOf(status: number): KeycloakErrorKind {
  if (status >= 500) return "unavailable";
  if (status === 409) return "conflict";
  if (status === 404) return "not_found";
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 400) return "bad_request";
  return "unexpected";
}

/**
 * Keycloak's own words: `errorMessage` (admin API, with `field` for user-profile errors),
 * `error_description` / `error` (OIDC endpoints), else nothing.
 */
export function keycloakMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  const pick = (key: string) => (typeof b[key] === "string" ? (b[key] as string) : undefined);
  const message = pick("errorMessage") ?? pick("error_description") ?? pick("error");
  if (message === undefined) return undefined;
  const field = pick("field");
  return (field ? `${field}: ${message}` : message).slice(0, 200);
}

/** The typed error for a non-2xx answer; `redact` removes anything secret from the text. */
export function errorFor(
  answer: Answer,
  what: string,
  redact: (text: string) => string,
): KeycloakAdminError {
  const said = keycloakMessage(answer.text);
  return new KeycloakAdminError(
    kindOf(answer.status),
    redact(`Keycloak ${what} answered ${answer.status}${said ? `: ${said}` : ""}`),
    answer.status,
  );
}
