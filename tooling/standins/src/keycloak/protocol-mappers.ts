import type { KeycloakUser } from "./users";

/**
 * A client's protocol mapper as Keycloak's `ProtocolMapperRepresentation` writes it. The
 * stand-in runs `oidc-usermodel-attribute-mapper` ("User Attribute"); config values are
 * strings, as in Keycloak's realm JSON.
 */
export interface ProtocolMapperConfig {
  name: string;
  protocol?: "openid-connect";
  protocolMapper: "oidc-usermodel-attribute-mapper";
  config: {
    "user.attribute": string;
    "claim.name": string;
    "jsonType.label"?: "String" | "boolean" | "int" | "long" | "JSON";
    "id.token.claim"?: "true" | "false";
    "access.token.claim"?: "true" | "false";
    "userinfo.token.claim"?: "true" | "false";
    "introspection.token.claim"?: "true" | "false";
    multivalued?: "true" | "false";
    [key: string]: string | undefined;
  };
}

export type MapperTarget = "id.token.claim" | "access.token.claim" | "userinfo.token.claim";

/** A User Attribute mapper mapping `attribute` to a same-named claim in every token. */
export function userAttributeMapper(attribute: string): ProtocolMapperConfig {
  return {
    name: attribute,
    protocol: "openid-connect",
    protocolMapper: "oidc-usermodel-attribute-mapper",
    config: {
      "user.attribute": attribute,
      "claim.name": attribute,
      "jsonType.label": "String",
      "id.token.claim": "true",
      "access.token.claim": "true",
      "userinfo.token.claim": "true",
      "introspection.token.claim": "true",
      multivalued: "false",
    },
  };
}

function typed(value: string, type: string | undefined): unknown {
  switch (type) {
    case "boolean":
      return value.toLowerCase() === "true";
    case "int":
    case "long":
      return Number.parseInt(value, 10);
    case "JSON":
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    default:
      return value;
  }
}

/**
 * The claims `mappers` put into one kind of token for `user`: an attribute the user lacks adds
 * no claim; one value unless the mapper is multivalued; flat claim names only.
 */
export function mappedClaims(
  mappers: readonly ProtocolMapperConfig[] | undefined,
  user: KeycloakUser,
  target: MapperTarget,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const mapper of mappers ?? []) {
    if (mapper.protocolMapper !== "oidc-usermodel-attribute-mapper") continue;
    const c = mapper.config;
    if (c[target] !== "true") continue;
    const values = user.attributes[c["user.attribute"]];
    if (!values || values.length === 0) continue;
    const type = c["jsonType.label"];
    claims[c["claim.name"]] =
      c.multivalued === "true" ? values.map((v) => typed(v, type)) : typed(values[0]!, type);
  }
  return claims;
}

/** Every claim name the mappers of `clients` can add (oidc-provider must know them). */
export function mappedClaimNames(
  clients: readonly { protocolMappers?: readonly ProtocolMapperConfig[] }[],
): string[] {
  const names = new Set<string>();
  for (const client of clients)
    for (const mapper of client.protocolMappers ?? []) names.add(mapper.config["claim.name"]);
  return [...names];
}
