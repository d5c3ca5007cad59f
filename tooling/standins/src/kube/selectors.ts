/**
 * Label and field selectors with the syntax and semantics of k8s.io/apimachinery
 * (`labels.Parse`, `fields.ParseSelector`). Parse errors surface as 400 BadRequest.
 */
import { badRequest } from "./status";

// ---------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------

type LabelOperator = "exists" | "!" | "=" | "!=" | "in" | "notin" | "gt" | "lt";

interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

const IDENT = /[A-Za-z0-9_./-]/;

function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? "";
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push(c);
      i++;
    } else if (c === "=" || c === "!" || c === ">" || c === "<") {
      const two = input.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push(two);
        i += 2;
      } else {
        tokens.push(c);
        i++;
      }
    } else if (IDENT.test(c)) {
      let j = i;
      while (j < input.length && IDENT.test(input[j] ?? "")) j++;
      tokens.push(input.slice(i, j));
      i = j;
    } else {
      throw badRequest(`unable to parse requirement: found '${c}', expected: identifier`);
    }
  }
  return tokens;
}

function isIdentifier(token: string | undefined): token is string {
  return token !== undefined && token.length > 0 && IDENT.test(token[0] ?? "");
}

export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (input === undefined || input.trim() === "") return () => true;
  const tokens = tokenize(input);
  const requirements: LabelRequirement[] = [];
  let pos = 0;
  const fail = (expected: string): never => {
    throw badRequest(
      `unable to parse requirement: found '${tokens[pos] ?? "EOS"}', expected: ${expected}`,
    );
  };
  const readValue = (): string => {
    const token = tokens[pos];
    // An empty value is allowed after = / == / != (e.g. "tier=").
    if (token === undefined || token === ",") return "";
    if (!isIdentifier(token)) return fail("identifier");
    pos++;
    return token;
  };
  while (pos < tokens.length) {
    if (tokens[pos] === "!") {
      pos++;
      const key = tokens[pos];
      if (!isIdentifier(key)) return fail("identifier");
      pos++;
      requirements.push({ key, op: "!", values: [] });
    } else {
      const key = tokens[pos];
      if (!isIdentifier(key)) return fail("identifier");
      pos++;
      const op = tokens[pos];
      if (op === undefined || op === ",") {
        requirements.push({ key, op: "exists", values: [] });
      } else if (op === "=" || op === "==") {
        pos++;
        requirements.push({ key, op: "=", values: [readValue()] });
      } else if (op === "!=") {
        pos++;
        requirements.push({ key, op: "!=", values: [readValue()] });
      } else if (op === ">" || op === "<") {
        pos++;
        const value = readValue();
        if (!/^-?\d+$/.test(value)) fail("integer");
        requirements.push({ key, op: op === ">" ? "gt" : "lt", values: [value] });
      } else if (op === "in" || op === "notin") {
        pos++;
        if (tokens[pos] !== "(") return fail("'('");
        pos++;
        const values: string[] = [];
        while (tokens[pos] !== ")") {
          if (tokens[pos] === undefined) return fail("')'");
          if (tokens[pos] === ",") {
            pos++;
            continue;
          }
          values.push(readValue());
        }
        pos++;
        requirements.push({ key, op, values });
      } else {
        return fail("=, !=, ==, in, notin");
      }
    }
    if (pos < tokens.length) {
      if (tokens[pos] !== ",") return fail("','");
      pos++;
    }
  }
  return (labels) => requirements.every((r) => matchesRequirement(r, labels ?? {}));
}

function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
      return has && value === r.values[0];
    case "!=":
      return !has || value !== r.values[0];
    case "in":
      return has && r.values.includes(value ?? "");
    case "notin":
      return !has || !r.values.includes(value ?? "");
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value ?? "")) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.op === "gt" ? n > bound : n < bound;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------

interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  matches(fields: Record<string, string>): boolean;
  /** The value a term pins a field to (`metadata.name=x` → `x`), if any. */
  exactValue(field: string): string | undefined;
}

/** Splits on `sep` outside backslash escapes, keeping escapes for the next step. */
function splitUnescaped(input: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i] ?? "";
    if (c === "\\" && i + 1 < input.length) {
      current += c + (input[i + 1] ?? "");
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? "";
    if (c === "\\") {
      const next = value[i + 1];
      if (next !== "\\" && next !== "," && next !== "=") {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ""}`);
      }
      out += next;
      i++;
    } else if (c === "," || c === "=") {
      throw badRequest(`invalid field selector: unescaped ${c} in value ${value}`);
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Parses a field selector and checks each field against `supported`, as the apiserver
 * does per resource (`field label not supported: spec.foo`).
 */
export function parseFieldSelector(
  input: string | undefined,
  supported: readonly string[],
): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (input !== undefined && input.trim() !== "") {
    for (const term of splitUnescaped(input, ",")) {
      if (term === "") continue;
      const match = /^([^=!]+?)\s*(==|=|!=)(.*)$/s.exec(term);
      if (match === null)
        throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
      const field = (match[1] ?? "").trim();
      const op = match[2] === "!=" ? "!=" : "=";
      const value = unescapeFieldValue(match[3] ?? "");
      if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
      requirements.push({ field, op, value });
    }
  }
  return {
    requirements,
    matches: (fields) =>
      requirements.every((r) =>
        r.op === "=" ? fields[r.field] === r.value : fields[r.field] !== r.value,
      ),
    exactValue: (field) => requirements.find((r) => r.field === field && r.op === "=")?.value,
  };
}
