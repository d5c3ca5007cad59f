import { existingBouncerNameSchema } from "~/server/domain/names";

/**
 * Whether an admin URL's bouncer name can name a bouncer at all: the admin procedures' rule (any
 * Kubernetes object name), not the user's, so admins reach reserved and dotted names too. Other
 * names answer 404 without asking the server.
 */
export const isAdminBouncerName = (name: string) =>
  existingBouncerNameSchema.safeParse(name).success;
