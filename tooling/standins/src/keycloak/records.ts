/** An `execute-actions-email` the admin API accepted (the stand-in sends no mail). */
export interface SentActionsEmail {
  userId: string;
  username: string;
  /** The address Keycloak would have mailed. */
  email: string;
  actions: string[];
  /** `client_id` query, `account-console` when none was given (Keycloak's default). */
  clientId: string;
  redirectUri?: string;
  /** `lifespan` query in seconds, Keycloak's default 43200 (12 h) when none was given. */
  lifespanS: number;
  /** epoch ms */
  sentAt: number;
}

/** What the stand-in did that a test wants to read back: mails sent, ID tokens issued. */
export class StandinRecords {
  readonly #emails: SentActionsEmail[] = [];
  readonly #idTokens = new Map<string, Record<string, unknown>[]>();

  emailSent(email: SentActionsEmail): void {
    this.#emails.push(structuredClone(email));
  }

  emails(username?: string): SentActionsEmail[] {
    const wanted = username?.toLowerCase();
    return structuredClone(
      wanted === undefined ? this.#emails : this.#emails.filter((e) => e.username === wanted),
    );
  }

  idTokenIssued(username: string, claims: Record<string, unknown>): void {
    const key = username.toLowerCase();
    const list = this.#idTokens.get(key) ?? [];
    list.push(structuredClone(claims));
    this.#idTokens.set(key, list);
  }

  idTokenClaims(username: string): Record<string, unknown>[] {
    return structuredClone(this.#idTokens.get(username.toLowerCase()) ?? []);
  }
}
