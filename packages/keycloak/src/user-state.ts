/**
 * What Keycloak must hold for a portal user (DESIGN.md §2 "Plans and Keycloak attributes"):
 * the display name and the attributes other irc.now services read from the ID token.
 */
export interface PortalUserState {
  plan: "free" | "pro";
  /** The user's pro setting; free users' content always expires. */
  contentAutoExpire: boolean;
  displayName: string | null;
}

export interface KeycloakUserState {
  /** Keycloak has first and last name; `name` in tokens is "first last". */
  firstName: string;
  lastName: string;
  /** Only the attributes the portal owns; others on the Keycloak user are kept by the push. */
  attributes: { plan: [string]; content_expires: [string] };
}

/** The attributes the portal owns on a Keycloak user (declared in the realm's user profile). */
export const PORTAL_ATTRIBUTES = ["plan", "content_expires"] as const;

/** `content_expires` is always true on free; on pro it is the user's setting. */
export function contentExpires(user: Pick<PortalUserState, "plan" | "contentAutoExpire">): boolean {
  return user.plan === "free" ? true : user.contentAutoExpire;
}

/**
 * Splits the display name at its first space, so that Keycloak's `name` claim ("first last")
 * gives the display name back unchanged.
 */
export function keycloakUserState(user: PortalUserState): KeycloakUserState {
  const name = (user.displayName ?? "").trim();
  const space = name.indexOf(" ");
  return {
    firstName: space === -1 ? name : name.slice(0, space),
    lastName: space === -1 ? "" : name.slice(space + 1),
    attributes: { plan: [user.plan], content_expires: [String(contentExpires(user))] },
  };
}
