import { z } from "zod";

/** Names that would confuse users or collide with the platform's own objects. */
export const RESERVED_BOUNCER_NAMES = new Set([
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

/** Any existing SojuBouncer name (admins must reach bouncers created outside the portal too). */
export const existingBouncerNameSchema = z
  .string()
  .trim()
  .min(1, "Enter a bouncer name.")
  .max(253, "Use at most 253 characters.")
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "That is not a Kubernetes object name.");
