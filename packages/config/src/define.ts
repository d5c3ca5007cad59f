import { z } from "zod";

/**
 * An area is a group of environment variables one part of the system needs (db, kube, ergo…).
 * Apps compose the areas they use, so the worker never demands Stripe keys and vice versa.
 */
export interface Area<S extends z.ZodRawShape> {
  name: string;
  shape: S;
  /** Variables whose values must never appear in an error message or a log line. */
  secrets: readonly (keyof S & string)[];
  /** Cross-variable rules; report each problem against the variable to fix. */
  // Method syntax on purpose: parameters are checked bivariantly, so specific areas fit Area<ZodRawShape>.
  check?(
    values: z.infer<z.ZodObject<S>>,
    report: (variable: keyof S & string, message: string) => void,
  ): void;
}

export function defineArea<S extends z.ZodRawShape>(area: Area<S>): Area<S> {
  return area;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any area, whatever its variables
type AnyArea = Area<any>;

export type ConfigOf<A extends readonly AnyArea[]> = UnionToIntersection<
  { [K in keyof A]: A[K] extends Area<infer S> ? z.infer<z.ZodObject<S>> : never }[number]
>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n"),
    );
  }
}

/** Kubernetes and Compose often pass unset variables as "": treat them as absent. */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== "") out[key] = value;
  }
  return out;
}

function redact(message: string, secretValues: readonly string[]): string {
  let out = message;
  for (const value of secretValues) {
    if (value.length >= 3) out = out.split(value).join("[redacted]");
  }
  return out;
}

/**
 * Parses `env` against every area at once and throws one ConfigError naming every offending
 * variable. Messages never contain secret values (zod's own messages do not echo input, and
 * anything that might is scrubbed again here).
 */
export function loadConfig<const A extends readonly AnyArea[]>(
  areas: A,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<A> {
  const input = withoutEmpty(env);
  const secretValues = areas
    .flatMap((a): readonly string[] => a.secrets)
    .map((name) => input[name])
    .filter((v): v is string => v !== undefined)
    .sort((a, b) => b.length - a.length);

  const problems: { variable: string; message: string }[] = [];
  const result: Record<string, unknown> = {};
  for (const area of areas) {
    const parsed = z.object(area.shape).safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const variable = String(issue.path[0] ?? area.name);
        const message =
          input[variable] === undefined && issue.code === "invalid_type"
            ? "is required but not set"
            : issue.message;
        problems.push({ variable, message });
      }
      continue;
    }
    area.check?.(parsed.data, (variable, message) => problems.push({ variable, message }));
    Object.assign(result, parsed.data);
  }
  if (problems.length > 0) {
    const seen = new Set<string>();
    const unique = problems
      .map((p) => ({ variable: p.variable, message: redact(p.message, secretValues) }))
      .filter((p) => {
        const key = `${p.variable}\0${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    throw new ConfigError(unique);
  }
  return result as ConfigOf<A>;
}
