import bcrypt from "bcryptjs";
import { casefold, hasSpaceOrControl, isGuestName, isServiceName, isValidName } from "./names";

/**
 * The account store shared by the IRC side (NickServ, SASL) and the HTTP API.
 * Passwords are kept only as bcrypt hashes (ergo's default `bcrypt-cost` is 4).
 */

export interface Account {
  name: string;
  casefolded: string;
  passwordHash: string | null;
  email: string;
  registeredAt: Date;
}

/** Error texts are ergo's own `err.Error()` strings. */
export const AccountError = {
  nameReserved: "Name reserved due to a prior registration",
  alreadyRegistered: "Account already exists",
  creation: "Account could not be created",
  badPassphrase: "Passphrase contains forbidden characters or is otherwise invalid",
  doesNotExist: "Account does not exist",
  invalidCredentials: "Invalid account credentials",
} as const;

export type AccountErrorText = (typeof AccountError)[keyof typeof AccountError];

export class AccountStoreError extends Error {
  constructor(readonly text: AccountErrorText) {
    super(text);
    this.name = "AccountStoreError";
  }
}

export type RegisterListener = (account: Account) => void;

export interface AccountStoreOptions {
  bcryptCost?: number;
  guestPrefix?: string;
}

export function isValidPassphrase(passphrase: string): boolean {
  // Over IRC a passphrase can never contain a space; through the API it could.
  return Buffer.byteLength(passphrase) <= 300 && !hasSpaceOrControl(passphrase);
}

export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  /** Casefolded names of UNREGISTERed accounts: reserved forever. */
  private readonly tombstones = new Set<string>();
  private readonly listeners = new Set<RegisterListener>();
  private readonly bcryptCost: number;
  private readonly guestPrefix: string;
  /** Serialises registrations so a concurrent pair cannot both succeed. */
  private pendingNames = new Set<string>();

  constructor(options: AccountStoreOptions = {}) {
    this.bcryptCost = options.bcryptCost ?? 4;
    this.guestPrefix = options.guestPrefix ?? "Guest-";
  }

  /** Called synchronously after every successful registration (nick enforcement hooks in here). */
  onRegister(listener: RegisterListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(name: string): Account | undefined {
    return this.accounts.get(casefold(name));
  }

  exists(name: string): boolean {
    return this.accounts.has(casefold(name));
  }

  list(): Account[] {
    return [...this.accounts.values()];
  }

  /** SAREGISTER semantics: registers a verified account; `passphrase` "" means none. */
  async saregister(name: string, passphrase: string): Promise<Account> {
    const cf = casefold(name);
    if (!isValidName(name) || name === "*") throw new AccountStoreError(AccountError.creation);
    if (isServiceName(name) || isGuestName(name, this.guestPrefix)) {
      throw new AccountStoreError(AccountError.alreadyRegistered);
    }
    if (this.accounts.has(cf) || this.tombstones.has(cf) || this.pendingNames.has(cf)) {
      throw new AccountStoreError(AccountError.nameReserved);
    }
    if (passphrase !== "" && !isValidPassphrase(passphrase)) {
      throw new AccountStoreError(AccountError.badPassphrase);
    }
    this.pendingNames.add(cf);
    try {
      const passwordHash =
        passphrase === "" ? null : await bcrypt.hash(passphrase, this.bcryptCost);
      const account: Account = {
        name,
        casefolded: cf,
        passwordHash,
        email: "",
        registeredAt: new Date(),
      };
      this.accounts.set(cf, account);
      for (const listener of this.listeners) listener(account);
      return account;
    } finally {
      this.pendingNames.delete(cf);
    }
  }

  /** Oper/API password reset; `passphrase` "" clears the password. */
  async setPassword(name: string, passphrase: string): Promise<void> {
    const account = this.get(name);
    if (!account) throw new AccountStoreError(AccountError.doesNotExist);
    if (passphrase !== "" && !isValidPassphrase(passphrase)) {
      throw new AccountStoreError(AccountError.badPassphrase);
    }
    const hash = passphrase === "" ? null : await bcrypt.hash(passphrase, this.bcryptCost);
    // re-read: the account may have been removed while hashing
    const current = this.get(name);
    if (!current) throw new AccountStoreError(AccountError.doesNotExist);
    current.passwordHash = hash;
  }

  /** Checks a passphrase; resolves to the account or throws doesNotExist / invalidCredentials. */
  async authenticate(name: string, passphrase: string): Promise<Account> {
    const account = this.get(name);
    if (!account) throw new AccountStoreError(AccountError.doesNotExist);
    if (account.passwordHash === null || passphrase === "") {
      throw new AccountStoreError(AccountError.invalidCredentials);
    }
    const ok = await bcrypt.compare(passphrase, account.passwordHash);
    if (!ok) throw new AccountStoreError(AccountError.invalidCredentials);
    return account;
  }

  /** NS UNREGISTER: removes the account but keeps its name reserved. */
  unregister(name: string): boolean {
    const cf = casefold(name);
    const existed = this.accounts.delete(cf);
    if (existed) this.tombstones.add(cf);
    return existed;
  }

  /** NS ERASE: removes every record, so the name can be registered again. */
  erase(name: string): boolean {
    const cf = casefold(name);
    const existed = this.accounts.delete(cf) || this.tombstones.has(cf);
    this.tombstones.delete(cf);
    return existed;
  }
}
