import { z } from "zod";
import { ERGO_RESERVED_NAMES } from "@irc-now/ergo";

/**
 * Two rules, one per audience. Users create bouncers under `bouncerNameSchema` (a DNS-1123 label,
 * not reserved): the name becomes a host name in their connection details. Admins address any
 * SojuBouncer that exists under `existingBouncerNameSchema` (any Kubernetes object name), since
 * bouncers made outside the portal may have names users cannot pick.
 */

/** Names that would confuse users or collide with the platform's own objects or IRC services. */
export const RESERVED_BOUNCER_NAMES = new Set([
  ...ERGO_RESERVED_NAMES.filter((n) => /^[a-z0-9-]+$/.test(n)),
  "admin",
  "administrator",
  "api",
  "irc",
  "irc-now",
  "ircnow",
  "soju",
  "ergo",
  "www",
  "mail",
  "root",
  "system",
  "support",
  "help",
  "status",
  "default",
  "kube-system",
  "operator",
  "worker",
  "web",
]);

export const bouncerNameSchema = z
  .string({ error: "Enter a name for your bouncer." })
  .trim()
  .min(1, "Enter a name for your bouncer.")
  .max(63, "Use at most 63 characters.")
  .regex(/^[a-z0-9-]+$/, "Use only lowercase letters, digits and hyphens.")
  .regex(/^[a-z0-9]/, "Start with a letter or a digit.")
  .regex(/[a-z0-9]$/, "End with a letter or a digit.")
  .refine(
    (name) => !RESERVED_BOUNCER_NAMES.has(name),
    "That name is reserved. Please pick another one.",
  );

/**
 * irc.now usernames become soju usernames and ergo account names: keep them to a portable IRC
 * nick subset (ergo's casemapping is case-insensitive, so lowercase only).
 */
export const usernameSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9_-]*$/, "must start with a letter and use only a-z, 0-9, _ and -");

/**
 * Any SojuBouncer name Kubernetes accepts: a DNS-1123 subdomain (dot-separated DNS-1123 labels,
 * at most 253 characters), the rule of the apiserver's `IsDNS1123Subdomain`. For admins only.
 */
export const existingBouncerNameSchema = z
  .string()
  .trim()
  .min(1, "Enter a bouncer name.")
  .max(253, "Use at most 253 characters.")
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "That is not a Kubernetes object name.",
  );
