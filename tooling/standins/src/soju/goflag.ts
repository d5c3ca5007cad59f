/**
 * Go's `flag` package (ContinueOnError) as BouncerServ uses it (facts/soju.md §5 and §7.2):
 * `-f v`, `-f=v`, `--f`, parsing stops at the first non-flag word or at `--`, a string flag always
 * takes the next word, plain bool flags take no separate value, soju's pointer flags always do.
 */

import { goQuote } from "./words";

export class FlagError extends Error {}

/** `-h`/`-help`: soju turns Go's flag.ErrHelp into a hint naming the command (see service.ts). */
export class FlagHelpRequested extends FlagError {}

interface FlagDefinition {
  isBool: boolean;
  set(value: string): void;
}

export interface FlagValue<T> {
  value: T;
}

const goBools: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Go's strconv.ParseBool; undefined when invalid. */
export function parseGoBool(value: string): boolean | undefined {
  return goBools[value];
}

function parseGoInt(value: string): number | undefined {
  // strconv.ParseInt(s, 0, 64): optional sign, 0x/0o/0b/0 prefixes, underscores only with a prefix.
  const match = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9]*)$/.exec(
    value,
  );
  if (!match) return undefined;
  const sign = match[1] === "-" ? -1 : 1;
  const body = match[2] ?? "";
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2).replace(/_/g, ""), 16);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2).replace(/_/g, ""), 8);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2).replace(/_/g, ""), 2);
  else if (body.length > 1 && body.startsWith("0"))
    n = parseInt(body.slice(1).replace(/_/g, "") || "0", 8);
  else n = parseInt(body, 10);
  if (Number.isNaN(n)) return undefined;
  return sign * n;
}

export class GoFlagSet {
  private readonly flags = new Map<string, FlagDefinition>();

  /** fs.String */
  string(name: string, initial = ""): FlagValue<string> {
    const ref = { value: initial };
    this.flags.set(name, { isBool: false, set: (v) => void (ref.value = v) });
    return ref;
  }

  /** soju's stringPtrFlag: undefined until set (distinguishes "not given" from ""). */
  stringPtr(name: string): FlagValue<string | undefined> {
    const ref: FlagValue<string | undefined> = { value: undefined };
    this.flags.set(name, { isBool: false, set: (v) => void (ref.value = v) });
    return ref;
  }

  /** fs.Bool: a plain Go bool flag (`-admin`, `-admin=false`; `-admin false` leaves "false" as an argument). */
  bool(name: string, initial = false): FlagValue<boolean> {
    const ref = { value: initial };
    this.flags.set(name, {
      isBool: true,
      set: (v) => {
        const parsed = parseGoBool(v);
        if (parsed === undefined)
          throw new FlagError(`invalid boolean value ${goQuote(v)} for -${name}: parse error`);
        ref.value = parsed;
      },
    });
    return ref;
  }

  /** soju's boolPtrFlag: not a Go bool flag, so it always takes a value (`-enabled false`). */
  boolPtr(name: string): FlagValue<boolean | undefined> {
    const ref: FlagValue<boolean | undefined> = { value: undefined };
    this.flags.set(name, {
      isBool: false,
      set: (v) => {
        const parsed = parseGoBool(v);
        if (parsed === undefined) {
          throw new FlagError(
            `invalid value ${goQuote(v)} for flag -${name}: strconv.ParseBool: parsing ${goQuote(v)}: invalid syntax`,
          );
        }
        ref.value = parsed;
      },
    });
    return ref;
  }

  /** fs.Int */
  int(name: string, initial: number): FlagValue<number> {
    const ref = { value: initial };
    this.flags.set(name, {
      isBool: false,
      set: (v) => {
        const parsed = parseGoInt(v);
        if (parsed === undefined)
          throw new FlagError(`invalid value ${goQuote(v)} for flag -${name}: parse error`);
        ref.value = parsed;
      },
    });
    return ref;
  }

  /** An int pointer flag (undefined until set). */
  intPtr(name: string): FlagValue<number | undefined> {
    const ref: FlagValue<number | undefined> = { value: undefined };
    this.flags.set(name, {
      isBool: false,
      set: (v) => {
        const parsed = /^[+-]?[0-9]+$/.test(v) ? Number.parseInt(v, 10) : undefined;
        if (parsed === undefined) {
          throw new FlagError(
            `invalid value ${goQuote(v)} for flag -${name}: strconv.Atoi: parsing ${goQuote(v)}: invalid syntax`,
          );
        }
        ref.value = parsed;
      },
    });
    return ref;
  }

  /** soju's stringSliceFlag (repeatable; undefined until given once). */
  stringSlice(name: string): FlagValue<string[] | undefined> {
    const ref: FlagValue<string[] | undefined> = { value: undefined };
    this.flags.set(name, {
      isBool: false,
      set: (v) => void (ref.value = [...(ref.value ?? []), v]),
    });
    return ref;
  }

  /** flag.FlagSet.Parse; returns the remaining (positional) arguments. */
  parse(input: readonly string[]): string[] {
    let args = [...input];
    for (;;) {
      const s = args[0];
      if (s === undefined || s.length < 2 || s[0] !== "-") return args;
      let minuses = 1;
      if (s[1] === "-") {
        minuses = 2;
        if (s.length === 2) return args.slice(1);
      }
      let name = s.slice(minuses);
      if (name.length === 0 || name[0] === "-" || name[0] === "=")
        throw new FlagError(`bad flag syntax: ${s}`);
      args = args.slice(1);
      let hasValue = false;
      let value = "";
      const eq = name.indexOf("=", 1);
      if (eq !== -1) {
        value = name.slice(eq + 1);
        hasValue = true;
        name = name.slice(0, eq);
      }
      const flag = this.flags.get(name);
      if (!flag) {
        // Go answers flag.ErrHelp here; soju v0.9+ turns it into this text (facts §7.8).
        if (name === "help" || name === "h")
          throw new FlagHelpRequested('unsupported flag (type "help <cmd>" for a help message)');
        throw new FlagError(`flag provided but not defined: -${name}`);
      }
      if (flag.isBool) {
        flag.set(hasValue ? value : "true");
        continue;
      }
      if (!hasValue && args.length > 0) {
        hasValue = true;
        value = args[0] ?? "";
        args = args.slice(1);
      }
      if (!hasValue) throw new FlagError(`flag needs an argument: -${name}`);
      flag.set(value);
    }
  }
}
