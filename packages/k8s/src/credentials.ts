/**
 * The per-user ergo credential (DESIGN.md §2 step 2): one Secret per irc.now username,
 * `irc-now-ergo-{key}` with key `password`, is the one source of truth for the password of the
 * user's ergo account, shared by all of the user's bouncers. Got with lookup-or-create: the first
 * writer's value wins, a writer that loses the create race reads the winner's.
 *
 * Names. Usernames are `[a-z][a-z0-9_-]*`, at most 32 characters (apps/web's usernameSchema). A
 * Secret name is a DNS-1123 subdomain (`[a-z0-9.-]`, every dot-separated part starting and ending
 * with a letter or digit), so `_` cannot appear and a trailing `-` is refused. The key used in
 * the name escapes with `.`, which never occurs in a username:
 * - `_` becomes `.u`;
 * - `-` stays, except where it would end a part (at the end, or right before an escape): there it
 *   becomes `.d`;
 * - letters and digits stay.
 * So `alice` → `irc-now-ergo-alice`, `jean-luc` → `irc-now-ergo-jean-luc`, `a_b` →
 * `irc-now-ergo-a.ub`, `bob-` → `irc-now-ergo-bob.d`. Every key decodes back to exactly one
 * username (a `.` is always followed by `u` or `d`), so two usernames never share a Secret; the
 * longest key is 63 characters (1 + 2 × 31).
 *
 * Labels: `irc.now/ergo-account` is the username itself when it is a valid label value (it ends
 * with a letter or digit), otherwise the key (which then contains a `.`, so it cannot be mistaken
 * for another username); the annotation of the same name always holds the exact username. Plus
 * `app.kubernetes.io/managed-by: irc-now-portal`.
 *
 * The password never appears in an error message or log line from here. Errors: a
 * `KubeRequestTimeout` as is (retryable), anything else as an `ErgoCredentialError`.
 */
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { LABEL_MANAGED_BY, MANAGED_BY_PORTAL } from "./crd";
import { describeKubeError, isConflict, isNotFound, KubeRequestTimeout, reasonOf } from "./errors";

/** Label (and annotation) on a credential Secret naming the ergo account / irc.now username. */
export const LABEL_ERGO_ACCOUNT = "irc.now/ergo-account";
/** Prefix of every credential Secret's name. */
export const ERGO_CREDENTIAL_SECRET_PREFIX = "irc-now-ergo-";
/** The Secret's data key holding the password. */
export const ERGO_CREDENTIAL_KEY = "password";

const USERNAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** A Secret could not be read, written or made sense of. The message names the Secret, never its value. */
export class ErgoCredentialError extends Error {
  override readonly name = "ErgoCredentialError";
}

function assertUsername(username: string): void {
  if (!USERNAME.test(username))
    throw new ErgoCredentialError(
      `not an irc.now username (a letter, then up to 31 of a-z, 0-9, _ and -): ${JSON.stringify(username)}`,
    );
}

/** The escaped form of a username used in the Secret name (see the module comment). */
export function ergoCredentialKey(username: string): string {
  assertUsername(username);
  let key = "";
  for (let i = username.length - 1; i >= 0; i--) {
    const c = username[i] ?? "";
    if (c === "_") key = `.u${key}`;
    else if (c === "-" && (key === "" || key.startsWith("."))) key = `.d${key}`;
    else key = `${c}${key}`;
  }
  return key;
}

/** `irc-now-ergo-{key}`: the name of the Secret holding `username`'s ergo password. */
export function ergoCredentialSecretName(username: string): string {
  return `${ERGO_CREDENTIAL_SECRET_PREFIX}${ergoCredentialKey(username)}`;
}

/** The value of the `irc.now/ergo-account` label for `username` (select with `irc.now/ergo-account=<value>`). */
export function ergoAccountLabelValue(username: string): string {
  assertUsername(username);
  return /[a-z0-9]$/.test(username) ? username : ergoCredentialKey(username);
}

function passwordOf(secret: V1Secret, name: string): string {
  const encoded = secret.data?.[ERGO_CREDENTIAL_KEY];
  const value =
    encoded !== undefined
      ? Buffer.from(encoded, "base64").toString("utf8")
      : secret.stringData?.[ERGO_CREDENTIAL_KEY];
  if (value === undefined || value === "")
    throw new ErgoCredentialError(`secret ${name} has no "${ERGO_CREDENTIAL_KEY}" key`);
  return value;
}

/** `describeKubeError` with every occurrence of the secrets removed (belt and braces). */
function safeDescription(error: unknown, secrets: string[]): string {
  let text = describeKubeError(error);
  for (const s of secrets) {
    if (s === "") continue;
    text = text.split(s).join("[redacted]");
    text = text.split(Buffer.from(s, "utf8").toString("base64")).join("[redacted]");
  }
  return text;
}

async function readSecret(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<V1Secret | null> {
  try {
    return await core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return null;
    if (error instanceof KubeRequestTimeout) throw error;
    throw new ErgoCredentialError(
      `could not read secret ${namespace}/${name}: ${safeDescription(error, [])}`,
      { cause: error },
    );
  }
}

/** The user's ergo password from its Secret, or null when the Secret does not exist. */
export async function readErgoCredential(
  core: CoreV1Api,
  namespace: string,
  username: string,
): Promise<string | null> {
  const name = ergoCredentialSecretName(username);
  const secret = await readSecret(core, namespace, name);
  return secret === null ? null : passwordOf(secret, name);
}

/**
 * Lookup-or-create: the password in the user's Secret; when there is none, creates it with
 * `candidate()` (called only then) and returns that. A create that loses a race (409
 * AlreadyExists) reads and returns the winner's password, so concurrent callers for one user all
 * end with the same password. `created` tells whether this call wrote the Secret.
 */
export async function ensureErgoCredential(
  core: CoreV1Api,
  namespace: string,
  username: string,
  candidate: () => Promise<string>,
): Promise<{ password: string; created: boolean }> {
  const name = ergoCredentialSecretName(username);
  // A Secret deleted between a lost create and the read of the winner: try again, a few times.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const existing = await readSecret(core, namespace, name);
    if (existing !== null) return { password: passwordOf(existing, name), created: false };
    const password = await candidate();
    if (typeof password !== "string" || password === "")
      throw new ErgoCredentialError(`the candidate password for secret ${name} is empty`);
    const body: V1Secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name,
        namespace,
        labels: {
          [LABEL_ERGO_ACCOUNT]: ergoAccountLabelValue(username),
          [LABEL_MANAGED_BY]: MANAGED_BY_PORTAL,
        },
        annotations: { [LABEL_ERGO_ACCOUNT]: username },
      },
      type: "Opaque",
      data: { [ERGO_CREDENTIAL_KEY]: Buffer.from(password, "utf8").toString("base64") },
    };
    try {
      await core.createNamespacedSecret({ namespace, body });
      return { password, created: true };
    } catch (error) {
      if (isConflict(error) && reasonOf(error) === "AlreadyExists") continue;
      // A create that timed out may have been stored: the caller retries and then reads it.
      if (error instanceof KubeRequestTimeout) throw error;
      throw new ErgoCredentialError(
        `could not create secret ${namespace}/${name}: ${safeDescription(error, [password])}`,
      );
    }
  }
  throw new ErgoCredentialError(
    `secret ${namespace}/${name} kept appearing and disappearing; giving up after 3 attempts`,
  );
}

/**
 * Deletes `username`'s credential Secret (account deletion); true when it existed, false when it
 * was already gone. The name is one-to-one with the username, so no other user's Secret can match.
 */
export async function deleteErgoCredential(
  core: CoreV1Api,
  namespace: string,
  username: string,
): Promise<boolean> {
  const name = ergoCredentialSecretName(username);
  try {
    await core.deleteNamespacedSecret({ name, namespace });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    if (error instanceof KubeRequestTimeout) throw error;
    throw new ErgoCredentialError(
      `could not delete secret ${namespace}/${name}: ${safeDescription(error, [])}`,
      { cause: error },
    );
  }
}
