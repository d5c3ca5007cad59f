import type * as Oidc from "oidc-provider";

/**
 * oidc-provider, loaded without its "Unsupported runtime" warning on Node 20.
 *
 * oidc-provider 9 targets Node 22+ LTS and prints `oidc-provider WARNING: Unsupported runtime`
 * when it is imported on an older LTS. This repository supports Node 20.19+ as well (README), so
 * on Node 20 (LTS "Iron") every `npm run dev` and test run printed it. Silencing that one
 * message there is safe because:
 * - oidc-provider only backs the Keycloak stand-in (tests and `npm run dev`), never production;
 * - the newer Node APIs it uses exist on Node 20.19: `crypto.hash` (20.12), `URL.parse` (20.18),
 *   `URL.canParse` (19.9); nothing else it calls is newer than Node 20;
 * - the stand-in's own suite (tooling/standins/test/keycloak: discovery, login with PKCE,
 *   logout, admin API, the next-auth client) runs on whichever Node runs the tests, Node 20
 *   included, so a real incompatibility still fails loudly.
 * Other runtimes keep the warning, and so does any other message printed during the import.
 */
const UNSUPPORTED = "oidc-provider WARNING: Unsupported runtime";

async function load(): Promise<typeof Oidc> {
  if (process.release.lts !== "Iron") return import("oidc-provider");
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes(UNSUPPORTED)) return;
    warn(...args);
  };
  try {
    return await import("oidc-provider");
  } finally {
    console.warn = warn;
  }
}

const oidc = await load();

export const Provider: typeof Oidc.Provider = oidc.default;
export type Provider = Oidc.Provider;
export const errors: typeof Oidc.errors = oidc.errors;
