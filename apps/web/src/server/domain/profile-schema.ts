import { z } from "zod";

// The profile form's rules, shared by the browser (checked before sending) and the server (the
// tRPC input). Pure zod: the client imports this file, so it must never import server code.

export const DISPLAY_NAME_MAX = 64;

/** C0/C1 controls, line and paragraph separators, and bidi overrides (names that lie about order). */
const forbiddenInName = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** Trimmed; empty means "show my username". Length counts characters, not UTF-16 units. */
export const displayNameSchema = z
  .string({ error: "Enter a display name, or leave it empty to use your username." })
  .trim()
  .refine((v) => [...v].length <= DISPLAY_NAME_MAX, {
    error: `Use at most ${DISPLAY_NAME_MAX} characters for your display name.`,
  })
  .refine((v) => !forbiddenInName.test(v), {
    error: "Your display name cannot contain line breaks, tabs or other control characters.",
  });

export const profileEmailSchema = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, { error: "Enter your email address." })
  .max(254, { error: "That email address is too long (at most 254 characters)." })
  .pipe(z.email({ error: "Enter an email address like name@example.com." }));

export const updateProfileInput = z.object({
  displayName: displayNameSchema,
  email: profileEmailSchema,
  /** Pro only; free users' content always expires (the server refuses a change on free). */
  contentAutoExpire: z.boolean({ error: "Choose whether your content expires." }),
});
export type UpdateProfileInput = z.infer<typeof updateProfileInput>;
export type ProfileField = keyof UpdateProfileInput;

/** First problem per field, as the server's tRPC error formatter reports them. */
export function profileFieldErrors(input: unknown): Partial<Record<ProfileField, string>> {
  const parsed = updateProfileInput.safeParse(input);
  if (parsed.success) return {};
  const errors: Partial<Record<ProfileField, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as ProfileField;
    errors[field] ??= issue.message;
  }
  return errors;
}
