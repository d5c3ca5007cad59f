import { z } from "zod";

/** Reusable field types with messages a person can act on. */

export const port = (fallback: number) =>
  z.coerce
    .number({ error: "must be a port number" })
    .int("must be a whole number")
    .min(1, "must be between 1 and 65535")
    .max(65535, "must be between 1 and 65535")
    .default(fallback);

export const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .default(fallback);

export const nonNegativeInt = (fallback: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .prefault(fallback ? "true" : "false");

export const url = (protocols: readonly string[], what = "URL") =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(/:$/, ""));
      } catch {
        return false;
      }
    },
    { error: `must be a ${what} with scheme ${protocols.map((p) => `${p}://`).join(" or ")}` },
  );

export const secret = (minLength = 1) =>
  z.string().min(minLength, `must be at least ${minLength} characters long`);

/** DNS-1123 label: Kubernetes namespaces and object names. */
export const dnsLabel = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS-1123 label (lowercase letters, digits and '-')",
  );

export const text = z.string().min(1, "must not be empty");
