// Minimal ambient types for oidc-provider v9, which ships no TypeScript declarations.
// Only the surface the Keycloak stand-in uses is declared. This file must stay a script
// (no top-level import/export) so that `declare module` is ambient; imports live inside.

declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export type UnknownObject = Record<string, unknown>;

  export interface AdapterPayload {
    [key: string]: unknown;
    jti?: string;
    kind?: string;
    uid?: string;
    grantId?: string;
    userCode?: string;
    accountId?: string;
    consumed?: number;
    exp?: number;
    authorizations?: Record<string, { sid?: string; grantId?: string; persistsLogout?: boolean }>;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type AdapterConstructor = new (name: string) => Adapter;

  export interface ClientMetadata {
    [key: string]: unknown;
    client_id: string;
    client_secret?: string;
    client_name?: string;
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    id_token_signed_response_alg?: string;
  }

  export interface Client {
    readonly clientId: string;
    readonly redirectUris: string[];
    readonly postLogoutRedirectUris: string[];
    grantTypeAllowed(type: string): boolean;
    redirectUriAllowed(value: string): boolean;
    postLogoutRedirectUriAllowed(value: string): boolean;
    includeSid(): boolean;
  }

  export interface ClientClass {
    readonly prototype: Client;
    find(clientId: string): Promise<Client | undefined>;
  }

  export interface ResourceServer {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: "opaque" | "jwt";
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  /** AccessToken or ClientCredentials as seen by formats.customizers.jwt. */
  export interface IssuedToken {
    readonly kind: string;
    readonly clientId: string;
    readonly accountId?: string;
    readonly scope?: string;
    readonly sid?: string;
    readonly grantId?: string;
  }

  export interface StructuredToken {
    header?: UnknownObject;
    payload: UnknownObject;
  }

  export interface Grant {
    readonly jti?: string;
    accountId?: string;
    clientId?: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantClass {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface PromptDetail {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [key: string]: unknown;
    };
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: PromptDetail;
    readonly params: UnknownObject & { client_id?: string; scope?: string };
    readonly session?: { accountId: string; uid?: string };
    readonly grantId?: string;
    readonly returnTo: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean; acr?: string; amr?: string[] };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface Session {
    readonly jti: string;
    readonly uid: string;
    readonly accountId?: string;
    readonly authorizations?: Record<string, { sid?: string; grantId?: string }>;
  }

  export interface OIDCContext {
    readonly route?: string;
    readonly issuer: string;
    readonly params?: UnknownObject;
    readonly client?: Client;
    readonly session?: Session;
    readonly entities: {
      readonly IdTokenHint?: { header: UnknownObject; payload: UnknownObject };
      readonly [key: string]: unknown;
    };
    urlFor(name: string, options?: UnknownObject): string;
  }

  export interface CookieSetOptions {
    path?: string;
    httpOnly?: boolean;
    sameSite?: "lax" | "strict" | "none" | boolean;
    signed?: boolean;
    secure?: boolean;
    overwrite?: boolean;
  }

  export interface KoaContextWithOIDC {
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    readonly path: string;
    readonly method: string;
    readonly host: string;
    status: number;
    body: unknown;
    type: string;
    readonly oidc: OIDCContext;
    readonly cookies: {
      get(name: string, options?: { signed?: boolean }): string | undefined;
      set(name: string, value: string | null, options?: CookieSetOptions): unknown;
    };
    set(field: string, value: string): void;
    redirect(url: string): void;
  }

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: UnknownObject,
      rejected: string[],
    ): UnknownObject | Promise<UnknownObject>;
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface JWK {
    [key: string]: unknown;
    kty: string;
    kid?: string;
    alg?: string;
    use?: string;
  }

  export interface Configuration {
    [key: string]: unknown;
    adapter?: AdapterConstructor;
    clients?: ClientMetadata[];
    jwks?: { keys: JWK[] };
    cookies?: {
      names?: { session?: string; interaction?: string; resume?: string };
      long?: CookieSetOptions;
      short?: CookieSetOptions;
      keys?: string[];
    };
    claims?: Record<string, string[] | null>;
    scopes?: string[];
    responseTypes?: string[];
    routes?: Record<string, string>;
    conformIdTokenClaims?: boolean;
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    findAccount?: (
      ctx: KoaContextWithOIDC,
      sub: string,
      token?: unknown,
    ) => Promise<Account | undefined>;
    interactions?: {
      url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => string | Promise<string>;
    };
    features?: UnknownObject;
    formats?: {
      customizers?: {
        jwt?: (
          ctx: KoaContextWithOIDC,
          token: IssuedToken,
          jwt: StructuredToken,
        ) => void | Promise<void>;
      };
    };
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: Client) => boolean };
    ttl?: Record<string, number>;
    issueRefreshToken?: (
      ctx: KoaContextWithOIDC,
      client: Client,
      code: unknown,
    ) => boolean | Promise<boolean>;
    rotateRefreshToken?: boolean | ((ctx: KoaContextWithOIDC) => boolean);
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => void | Promise<void>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Client: ClientClass;
    readonly Grant: GrantClass;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    cookieName(type: "session" | "interaction" | "resume"): string;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export const errors: {
    SessionNotFound: new (description?: string) => Error;
    InvalidTarget: new (description?: string) => Error;
    [name: string]: unknown;
  };

  export default Provider;
}
