import { AccountStoreError, type Account, type AccountStore } from "./accounts";
import type { ResponseBuffer, Session, User } from "./model";

/**
 * SASL as ergo v2.11.1 does it (seen live): `AUTHENTICATE +` is sent with no prefix
 * (send-unprefixed-sasl), and before registration 900 carries `* *` for nick and mask.
 */

export interface SaslHost {
  readonly accounts: AccountStore;
  loginUser(user: User, account: Account): void;
}

const MECHANISMS = "PLAIN,EXTERNAL";
const CHUNK = 400;

function fail(rb: ResponseBuffer, reason?: string): void {
  rb.numeric(
    "904",
    reason ? `SASL authentication failed: ${reason}` : "SASL authentication failed",
  );
}

export async function handleAuthenticate(
  host: SaslHost,
  session: Session,
  params: string[],
  rb: ResponseBuffer,
): Promise<void> {
  const arg = params[0];
  if (arg === undefined || arg === "") {
    rb.numeric("461", "AUTHENTICATE", "Not enough parameters");
    return;
  }
  const loggedIn = session.user ? session.user.account !== null : session.preAccount !== null;
  if (arg === "*") {
    session.sasl = null;
    rb.numeric("906", "SASL authentication aborted");
    return;
  }
  if (!session.sasl) {
    if (loggedIn) {
      rb.numeric("907", "You have already authenticated");
      return;
    }
    const mechanism = arg.toUpperCase();
    if (mechanism !== "PLAIN" && mechanism !== "EXTERNAL") {
      rb.numeric("908", MECHANISMS, "are available SASL mechanisms");
      fail(rb);
      return;
    }
    session.sasl = { mechanism, buffer: "" };
    rb.add({ source: null, command: "AUTHENTICATE", params: ["+"] });
    return;
  }
  if (arg.length > CHUNK) {
    session.sasl = null;
    rb.numeric("905", "SASL message too long");
    return;
  }
  const state = session.sasl;
  if (arg !== "+") state.buffer += arg;
  if (arg.length === CHUNK) return; // more chunks follow
  session.sasl = null;

  if (state.mechanism === "EXTERNAL") {
    // the stand-in has no client certificates
    fail(rb, "Invalid account credentials");
    return;
  }
  const decoded = Buffer.from(state.buffer, "base64").toString("utf8");
  const parts = decoded.split("\0");
  if (parts.length !== 3) {
    fail(rb, "Invalid account credentials");
    return;
  }
  const [authzid = "", authcid = "", password = ""] = parts;
  if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
    fail(rb, "Invalid account credentials");
    return;
  }
  let account: Account;
  try {
    account = await host.accounts.authenticate(authcid, password);
  } catch (err) {
    if (err instanceof AccountStoreError) fail(rb, err.text);
    else fail(rb);
    return;
  }
  const user = session.user;
  const mask = user ? user.mask : "*";
  if (user) host.loginUser(user, account);
  else session.preAccount = account;
  rb.numeric("900", mask, account.name, `You are now logged in as ${account.name}`);
  rb.numeric("903", "Authentication successful");
}

/** base64 of `\0account\0password`, for tests and tools. */
export function saslPlainPayload(account: string, password: string): string {
  return Buffer.from(`\0${account}\0${password}`, "utf8").toString("base64");
}
