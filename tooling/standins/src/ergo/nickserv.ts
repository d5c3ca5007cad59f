import { createHash } from "node:crypto";
import { AccountError, AccountStoreError, type Account, type AccountStore } from "./accounts";
import type { ResponseBuffer, Session, User } from "./model";
import { casefold } from "./names";

/**
 * NickServ as ergo v2.11.1 answers it. Reached through `PRIVMSG NickServ :…`, `NS …` and
 * `NICKSERV …`; every reply is `:NickServ!NickServ@localhost NOTICE <nick> :<text>`.
 * Dispatch order (ergo's serviceRunCommand): unknown command → parameter count → oper
 * capability ("Command restricted") → login required.
 */

export const NICKSERV_PREFIX = "NickServ!NickServ@localhost";

export interface NickServHost {
  readonly accounts: AccountStore;
  readonly serverName: string;
  readonly config: { registerExistsCode: string };
  readonly users: Map<string, User>;
  readonly createdAt: Date;
  findUser(nick: string): User | undefined;
  loginUser(user: User, account: Account): void;
  applyNickChange(user: User, nick: string): void;
  randomlyRename(user: User): void;
}

interface Context {
  host: NickServHost;
  session: Session;
  user: User;
  rb: ResponseBuffer;
  notice(text: string): void;
}

interface Command {
  minParams: number;
  /** Needs the `accreg` oper capability (every oper of the stand-in has it). */
  accreg?: boolean;
  authRequired?: boolean;
  help: string;
  handler(ctx: Context, params: string[], name: string): Promise<void> | void;
}

const BOLD = "\x02";

export function isNickServTarget(target: string): boolean {
  return casefold(target) === "nickserv" || casefold(target) === casefold(NICKSERV_PREFIX);
}

function confirmationCode(name: string, salt: Date): string {
  const digest = createHash("sha256").update(`${name}\0${salt.toISOString()}`).digest();
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from(digest.subarray(0, 5), (b) => alphabet[b & 31]).join("");
}

const commands: Record<string, Command> = {
  saregister: {
    minParams: 1,
    accreg: true,
    help: "SAREGISTER <username> [password]",
    async handler(ctx, params) {
      const registerCap = ctx.session.caps.has("draft/account-registration");
      const account = params[0] ?? "";
      const second = params[1];
      const passphrase = second !== undefined && second !== "*" ? second : "";
      try {
        await ctx.host.accounts.saregister(account, passphrase);
      } catch (err) {
        const text = err instanceof AccountStoreError ? err.text : AccountError.creation;
        let message: string;
        let code: string;
        // Recorded: the "exists" family (USERNAME_EXISTS in v2.11.1). The other codes follow
        // ergo's nsSaregisterHandler (not recorded live).
        if (text === AccountError.alreadyRegistered || text === AccountError.nameReserved) {
          message = text;
          code = ctx.host.config.registerExistsCode;
        } else if (text === AccountError.badPassphrase) {
          message = "Passphrase contains forbidden characters or is otherwise invalid";
          code = "INVALID_PASSWORD";
        } else {
          message = `Could not register: ${text}`;
          code = "UNKNOWN_ERROR";
        }
        ctx.notice(message);
        if (registerCap) {
          const safeAccount =
            account === "" || account.startsWith(":") || account.includes(" ") ? "*" : account;
          ctx.rb.add({
            source: ctx.host.serverName,
            command: "FAIL",
            params: ["REGISTER", code, safeAccount, text],
            options: { forceTrailing: true },
          });
        }
        return;
      }
      // strict nick enforcement may have renamed this very client by now: the notice goes to the new nick
      ctx.notice(`Successfully registered account ${account}`);
      if (registerCap) {
        ctx.rb.add({
          source: ctx.host.serverName,
          command: "REGISTER",
          params: ["SUCCESS", account, "Account successfully registered"],
          options: { forceTrailing: true },
        });
      }
    },
  },

  passwd: {
    minParams: 2,
    help: "PASSWD <current> <new> <new_again>  or (operators)  PASSWD <username> <new>",
    async handler(ctx, params) {
      let target: string;
      let newPassword: string;
      if (params.length === 2) {
        if (!ctx.user.oper) {
          ctx.notice("Insufficient privileges");
          return;
        }
        target = params[0] ?? "";
        newPassword = params[1] === "*" ? "" : (params[1] ?? "");
      } else if (params.length === 3) {
        const account = ctx.user.account;
        newPassword = params[1] === "*" ? "" : (params[1] ?? "");
        const check = params[2] === "*" ? "" : (params[2] ?? "");
        if (!account) {
          ctx.notice("You're not logged into an account");
          return;
        }
        if (newPassword !== check) {
          ctx.notice("Passwords do not match");
          return;
        }
        const stored = ctx.host.accounts.get(account.name);
        if (!stored) {
          ctx.notice("You're not logged into an account");
          return;
        }
        if (stored.passwordHash !== null) {
          const current = params[0] ?? "";
          if (current === "") {
            ctx.notice("You must supply a password");
            return;
          }
          try {
            await ctx.host.accounts.authenticate(account.name, current);
          } catch {
            ctx.notice("Password incorrect");
            return;
          }
        }
        if (newPassword === "") {
          ctx.notice("You can't delete your password unless you add a certificate fingerprint");
          return;
        }
        target = account.name;
      } else {
        ctx.notice("Invalid parameters");
        return;
      }
      try {
        await ctx.host.accounts.setPassword(target, newPassword);
        ctx.notice("Password changed");
      } catch (err) {
        if (err instanceof AccountStoreError && err.text === AccountError.doesNotExist)
          ctx.notice("Account does not exist");
        else ctx.notice("Password could not be changed due to server error");
      }
    },
  },

  // IDENTIFY, INFO and HELP texts follow ergo's source. UNREGISTER/ERASE were recorded live on
  // ergo 2.15.0 (test/ergo/ergo-2.15.test.ts): ERASE of a name without an account also answers
  // "Successfully unregistered account <name>"; UNREGISTER of one answers "Invalid account name".
  identify: {
    minParams: 1,
    help: "IDENTIFY <username> [password]",
    async handler(ctx, params) {
      if (ctx.user.account) {
        ctx.notice("You're already logged into an account");
        return;
      }
      const [first = "", second] = params;
      const username = second === undefined ? ctx.user.nick : first;
      const passphrase = second === undefined ? first : second;
      let account: Account;
      try {
        account = await ctx.host.accounts.authenticate(username, passphrase);
      } catch (err) {
        const reason =
          err instanceof AccountStoreError ? err.text : AccountError.invalidCredentials;
        ctx.notice(`Authentication failed: ${reason}`);
        return;
      }
      const user = ctx.user;
      if (casefold(user.nick) !== account.casefolded) {
        const holder = ctx.host.findUser(account.name);
        if (holder && holder !== user && holder.account?.casefolded !== account.casefolded)
          ctx.host.randomlyRename(holder);
        if (!ctx.host.findUser(account.name)) ctx.host.applyNickChange(user, account.name);
      }
      ctx.host.loginUser(user, account);
      ctx.notice(`You're now logged in as ${account.name}`);
    },
  },

  info: {
    minParams: 0,
    help: "INFO [username]",
    handler(ctx, params) {
      const name = params[0] ?? ctx.user.account?.name;
      if (name === undefined) {
        ctx.notice("You're not logged into an account");
        return;
      }
      const account = ctx.host.accounts.get(name);
      if (!account) {
        ctx.notice(
          params[0] === undefined ? "Account does not exist" : "That nickname is not registered",
        );
        return;
      }
      ctx.notice(`Account: ${account.name}`);
      ctx.notice(`Registered at: ${account.registeredAt.toUTCString().replace("GMT", "UTC")}`);
      ctx.notice(`Account ${account.casefolded} has 0 registered channel(s).`);
    },
  },

  unregister: {
    minParams: 1,
    help: "UNREGISTER <username> [code]",
    handler(ctx, params, name) {
      unregisterOrErase(ctx, params, name === "erase");
    },
  },

  erase: {
    minParams: 1,
    accreg: true,
    help: "ERASE <username> [code]",
    handler(ctx, params, name) {
      unregisterOrErase(ctx, params, name === "erase");
    },
  },

  help: {
    minParams: 0,
    help: "HELP [command]",
    handler(ctx) {
      ctx.notice(`*** ${BOLD}NickServ HELP${BOLD} ***`);
      for (const [name, command] of Object.entries(commands)) {
        if (name === "help") continue;
        ctx.notice(`${BOLD}${name.toUpperCase()}${BOLD}: ${command.help}`);
      }
      ctx.notice(`*** ${BOLD}End of NickServ HELP${BOLD} ***`);
    },
  },
};

function unregisterOrErase(ctx: Context, params: string[], erase: boolean): void {
  const username = params[0] ?? "";
  const code = params[1];
  const accounts = ctx.host.accounts;
  let accountName: string;
  let salt: Date;
  if (erase) {
    accountName = username;
    salt = ctx.host.createdAt;
  } else {
    const account = accounts.get(username);
    if (!account) {
      ctx.notice("Invalid account name");
      return;
    }
    accountName = account.name;
    salt = account.registeredAt;
  }
  if (!(ctx.user.account?.casefolded === casefold(accountName) || ctx.user.oper)) {
    ctx.notice("Insufficient oper privs");
    return;
  }
  // ergo's code hashes the name as given (ERASE: as typed; UNREGISTER: as registered)
  const expected = confirmationCode(accountName, salt);
  if (code !== expected) {
    if (erase) {
      ctx.notice(
        `${BOLD}Warning: erasing this account will allow it to be re-registered; consider UNREGISTER instead.${BOLD}`,
      );
    } else {
      ctx.notice(
        `${BOLD}Warning: unregistering this account will remove its stored privileges.${BOLD}`,
      );
      ctx.notice(
        `${BOLD}Note that an unregistered account name remains reserved and cannot be re-registered.${BOLD}`,
      );
      ctx.notice(
        `${BOLD}If you are having problems with your account, contact an administrator.${BOLD}`,
      );
      ctx.notice(
        `${BOLD}Unregistering your account will unregister all channels you founded.${BOLD}`,
      );
      ctx.notice(`${BOLD}To prevent this, transfer your channels first with CS TRANSFER.${BOLD}`);
    }
    ctx.notice(
      `To confirm, run this command: /NS ${erase ? "ERASE" : "UNREGISTER"} ${accountName} ${expected}`,
    );
    return;
  }
  // ERASE deletes whatever records exist and succeeds even when there were none (ergo 2.15.0)
  const removed = erase ? (accounts.erase(accountName), true) : accounts.unregister(accountName);
  if (!removed) {
    ctx.notice("Account does not exist");
    return;
  }
  // clients logged into it are logged out
  for (const user of ctx.host.users.values()) {
    if (user.account?.casefolded === casefold(accountName)) user.account = null;
  }
  ctx.notice(`Successfully unregistered account ${accountName}`);
}

/** Runs one NickServ command line (the text after `PRIVMSG NickServ :`, `NS` or `NICKSERV`). */
export async function handleNickServ(
  host: NickServHost,
  session: Session,
  text: string,
  rb: ResponseBuffer,
): Promise<void> {
  const user = session.user;
  if (!user) return;
  const words = text.split(" ").filter(Boolean);
  const [first, ...params] = words;
  if (first === undefined) return;
  const notice = (message: string) =>
    rb.add({
      source: NICKSERV_PREFIX,
      command: "NOTICE",
      params: [user.nick, message],
      options: { forceTrailing: true },
    });
  let name = first.toLowerCase();
  if (name === "password") name = "passwd";
  const command = commands[name];
  if (!command) {
    notice("Unknown command. To see available commands, run: /NS HELP");
    return;
  }
  if (params.length < command.minParams) {
    notice(`Invalid parameters. For usage, do /msg NickServ HELP ${first.toUpperCase()}`);
    return;
  }
  if (command.accreg && !user.oper) {
    notice("Command restricted");
    return;
  }
  if (command.authRequired && !user.account) {
    notice("You're not logged into an account");
    return;
  }
  await command.handler({ host, session, user, rb, notice }, params, name);
}
