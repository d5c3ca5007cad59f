import type { Adapter, AdapterConstructor, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  /** epoch ms; Infinity when oidc-provider gave no expiry */
  expiresAt: number;
}

/**
 * oidc-provider's state (sessions, interactions, grants, codes, refresh tokens) for ONE
 * stand-in instance. Plain maps scanned linearly: a stand-in holds a handful of entries, and
 * scans let logout find a session by the `sid` of an ID token, as Keycloak does.
 */
export class ProviderStore {
  readonly #models = new Map<string, Map<string, Entry>>();

  model(name: string): Map<string, Entry> {
    let entries = this.#models.get(name);
    if (!entries) {
      entries = new Map();
      this.#models.set(name, entries);
    }
    return entries;
  }

  live(name: string, id: string): AdapterPayload | undefined {
    const entries = this.model(name);
    const entry = entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  *liveEntries(name: string): Generator<[string, AdapterPayload]> {
    for (const id of [...this.model(name).keys()]) {
      const payload = this.live(name, id);
      if (payload) yield [id, payload];
    }
  }

  /** Ids of live sessions whose authorization for some client carries `sid`. */
  sessionIdsWithSid(sid: string): string[] {
    const found: string[] = [];
    for (const [id, payload] of this.liveEntries("Session")) {
      const auths = Object.values(payload.authorizations ?? {});
      if (auths.some((a) => a.sid === sid)) found.push(id);
    }
    return found;
  }

  /** End a session the way Keycloak's logout does: drop it and everything issued under its grants. */
  endSession(id: string): boolean {
    const payload = this.live("Session", id);
    if (!payload) return false;
    for (const auth of Object.values(payload.authorizations ?? {})) {
      if (auth.grantId) this.revokeGrant(auth.grantId);
    }
    this.model("Session").delete(id);
    return true;
  }

  revokeGrant(grantId: string): void {
    for (const [name, entries] of this.#models) {
      if (name === "Grant") {
        entries.delete(grantId);
        continue;
      }
      for (const [id, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(id);
    }
  }

  clear(): void {
    this.#models.clear();
  }

  prune(): void {
    const now = Date.now();
    for (const entries of this.#models.values()) {
      for (const [id, entry] of entries) if (entry.expiresAt <= now) entries.delete(id);
    }
  }
}

/** An oidc-provider adapter class bound to `store` (a fresh class per stand-in instance). */
export function adapterFor(store: ProviderStore): AdapterConstructor {
  let writes = 0;
  return class StandinAdapter implements Adapter {
    readonly #name: string;

    constructor(name: string) {
      this.#name = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (++writes % 200 === 0) store.prune();
      const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Infinity;
      store.model(this.#name).set(id, { payload: structuredClone(payload), expiresAt });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const payload = store.live(this.#name, id);
      return payload && structuredClone(payload);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      for (const [, payload] of store.liveEntries(this.#name)) {
        if (payload.userCode === userCode) return structuredClone(payload);
      }
      return undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [, payload] of store.liveEntries(this.#name)) {
        if (payload.uid === uid) return structuredClone(payload);
      }
      return undefined;
    }

    async consume(id: string): Promise<void> {
      // Keycloak's default ("Revoke Refresh Token" off) keeps a refresh token valid after it
      // was used, so two requests refreshing at once both succeed. oidc-provider would treat a
      // consumed refresh token's reuse as theft and revoke the whole grant.
      if (this.#name === "RefreshToken") return;
      const payload = store.live(this.#name, id);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      store.model(this.#name).delete(id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const entries = store.model(this.#name);
      for (const [id, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(id);
    }
  };
}
