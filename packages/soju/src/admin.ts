/**
 * SojuAdmin on top of a BouncerServ transport (the admin socket or sojuctl through pods/exec):
 * builds the command words of facts/soju.md §5, reads the replies, keeps secrets out of logs and
 * errors.
 */
import { errorText, silentLogger, type SojuLogger } from "./logger";
import {
  SojuCommandFailed,
  SojuInvalidArgument,
  SojuUnavailable,
  type NetworkSpec,
  type NetworkStatus,
  type SaslStatus,
  type SojuAdmin,
} from "./port";
import {
  parseNetworkExists,
  parseNetworkStatus,
  parseSaslStatus,
  parseUserExists,
  saslStatusOf,
} from "./replies";
import { redactWords, scrubError, secretsOf } from "./scrub";
import { assertSendable } from "./words";

/**
 * Runs one BouncerServ command on a bouncer's soju. `words` are the command's words, unquoted
 * (the transport encodes them for its medium). Resolves with soju's output lines; throws
 * SojuCommandFailed (soju refused), SojuUnavailable (soju not reachable, no terminal reply) or
 * SojuInvalidArgument (a word the medium cannot carry; nothing was sent).
 */
export interface SojuTransport {
  run(bouncer: string, words: readonly string[]): Promise<string[]>;
  /**
   * Runs several commands in one round trip, strictly in order, stopping at the first that
   * fails: the commands after it are never sent. Resolves with the output of the commands that
   * succeeded and, when one failed, its index and typed error (as `run` would have thrown it).
   * Every word is validated before anything is sent.
   */
  runSequence(
    bouncer: string,
    commands: ReadonlyArray<readonly string[]>,
    hold?: SequenceHold,
  ): Promise<SequenceResult>;
  /**
   * Optional prefetch hook: a `runSequence` on this bouncer is coming; the transport may open
   * its round trip ahead (exec: the session, waiting for its stdin). Nothing is sent; a
   * prepared round trip that is never used is dropped by the transport.
   */
  prepareSequence?(bouncer: string): void;
  /** Drops what the transport keeps for the bouncer (e.g. its admin-socket connection). */
  release(bouncer: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A sequence held part-way: the commands before index `before` run at once; the rest only once
 * `release` resolves, and never when it rejects — then the sequence ends with a failure at
 * `before` carrying the rejection. Where the medium allows, still one round trip.
 */
export interface SequenceHold {
  before: number;
  release: Promise<unknown>;
}

/**
 * `runSequence` with a hold for transports whose round trip cannot pause (the admin socket: two
 * turns of the bouncer's queue, the rest after the release).
 */
export async function runHeldInTwo(
  run: (commands: ReadonlyArray<readonly string[]>) => Promise<SequenceResult>,
  commands: ReadonlyArray<readonly string[]>,
  hold: SequenceHold | undefined,
): Promise<SequenceResult> {
  if (!hold || hold.before <= 0 || hold.before >= commands.length) return run(commands);
  const first = await run(commands.slice(0, hold.before));
  if (first.failure) return first;
  try {
    await hold.release;
  } catch (reason) {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    return { outputs: first.outputs, failure: { index: hold.before, error } };
  }
  const rest = await run(commands.slice(hold.before));
  return {
    outputs: [...first.outputs, ...rest.outputs],
    ...(rest.failure
      ? { failure: { index: hold.before + rest.failure.index, error: rest.failure.error } }
      : {}),
  };
}

export interface SequenceResult {
  /** Output lines of each command that succeeded, in order. */
  outputs: string[][];
  /** The command that failed (the ones after it were not run). */
  failure?: { index: number; error: Error };
}

/** A command's name for error texts, without values: `network create`, `sasl set-plain`. */
export function commandName(words: readonly string[]): string {
  const rest = words[0] === "user" && words[1] === "run" ? words.slice(3) : words;
  return rest.slice(0, 2).join(" ");
}

export interface BouncerServAdminOptions {
  logger?: SojuLogger;
  /**
   * How often `saslStatus` asks again when soju sent only the mechanism line: soju v0.7.0 can
   * drop the last line of a `user run` reply (facts §7.4). Default 3.
   */
  saslStatusRetries?: number;
}

/** The network flags shared by `network create` and `network update` (booleans take a value). */
export function networkFlags(network: NetworkSpec): string[] {
  const flags = [
    "-addr",
    network.addr,
    "-name",
    network.name,
    "-nick",
    network.nick,
    "-username",
    network.username,
  ];
  if (network.realname !== undefined) flags.push("-realname", network.realname);
  flags.push("-enabled", network.enabled ? "true" : "false");
  return flags;
}

export function assertNetworkName(name: string): void {
  if (name === "")
    throw new SojuInvalidArgument(
      "the network name must not be empty (soju would fall back to the address)",
    );
}

export class BouncerServAdmin implements SojuAdmin {
  private readonly log: SojuLogger;
  private readonly saslStatusRetries: number;

  constructor(
    private readonly transport: SojuTransport,
    options: BouncerServAdminOptions = {},
  ) {
    this.log = options.logger ?? silentLogger;
    this.saslStatusRetries = options.saslStatusRetries ?? 3;
  }

  /** The one way out: validation, logging without secrets, errors without secrets. */
  private async send(bouncer: string, words: readonly string[]): Promise<string[]> {
    const secrets = secretsOf(words);
    const command = redactWords(words).join(" ");
    try {
      assertSendable(words);
      this.log.debug({ bouncer, command }, "soju command");
      const lines = await this.transport.run(bouncer, words);
      this.log.debug({ bouncer, command, outputLines: lines.length }, "soju command done");
      return lines;
    } catch (error) {
      const safe = scrubError(error, secrets);
      const level = safe instanceof SojuUnavailable ? "warn" : "debug";
      this.log[level]({ bouncer, command, error: errorText(safe) }, "soju command failed");
      throw safe;
    }
  }

  /**
   * Several commands in one round trip (SojuTransport.runSequence), logged and scrubbed like
   * `send`; a failure is named after its command.
   */
  private async sendSequence(
    bouncer: string,
    commands: ReadonlyArray<readonly string[]>,
    hold?: SequenceHold,
  ): Promise<SequenceResult> {
    const secrets = commands.flatMap((words) => secretsOf(words));
    const command = commands.map((words) => redactWords(words).join(" ")).join("; ");
    let result: SequenceResult;
    try {
      for (const words of commands) assertSendable(words);
      this.log.debug({ bouncer, command }, "soju command sequence");
      result = await this.transport.runSequence(bouncer, commands, hold);
    } catch (error) {
      const safe = scrubError(error, secrets);
      this.log.warn({ bouncer, command, error: errorText(safe) }, "soju command sequence failed");
      throw safe;
    }
    if (result.failure === undefined) {
      this.log.debug({ bouncer, command, commands: commands.length }, "soju command sequence done");
      return result;
    }
    const { index } = result.failure;
    const name = commandName(commands[index] ?? []);
    const raw = result.failure.error;
    const safe = scrubError(
      raw instanceof SojuCommandFailed ? new SojuCommandFailed(raw.reply, name) : raw,
      secrets,
    );
    const level = safe instanceof SojuUnavailable ? "warn" : "debug";
    this.log[level](
      { bouncer, command, failed: name, error: errorText(safe) },
      "soju command sequence stopped at a failure",
    );
    return { outputs: result.outputs, failure: { index, error: safe } };
  }

  async applyUpstreamNetwork(
    bouncer: string,
    user: string,
    network: Omit<NetworkSpec, "enabled">,
    sasl: { username: string; password: string },
    options: { enableAfter?: Promise<unknown> } = {},
  ): Promise<"created" | "updated"> {
    assertNetworkName(network.name);
    const flags = networkFlags({ ...network, enabled: false });
    // The enable (the last command) waits for `enableAfter`; create and set-plain do not. Its
    // rejection is this call's result, whenever the transport gets to look at it.
    options.enableAfter?.catch(() => undefined);
    const hold =
      options.enableAfter === undefined ? undefined : { before: 2, release: options.enableAfter };
    const run = (words: string[]) => ["user", "run", user, ...words];
    // `--` ends the flags, so a username or password starting with '-' stays positional.
    const rest = [
      run(["sasl", "set-plain", "-network", network.name, "--", sasl.username, sasl.password]),
      run(["network", "update", network.name, "-enabled", "true"]),
    ];
    let created: "created" | "updated" = "created";
    let result = await this.sendSequence(
      bouncer,
      [run(["network", "create", ...flags]), ...rest],
      hold,
    );
    const first = result.failure;
    if (
      first?.index === 0 &&
      first.error instanceof SojuCommandFailed &&
      parseNetworkExists(first.error.reply) !== undefined
    ) {
      // A setup that ran before (a retry, or another replica's): the same sequence with
      // `network update`. An existing network may be in use, so it is not touched at all — not
      // even disabled — until `enableAfter` resolves (a rejection leaves it as it was); then
      // the whole sequence runs, unheld.
      this.log.debug({ bouncer, user, network: network.name }, "soju network exists; updating it");
      created = "updated";
      if (options.enableAfter) await options.enableAfter;
      result = await this.sendSequence(bouncer, [
        run(["network", "update", network.name, ...flags]),
        ...rest,
      ]);
    }
    if (result.failure) throw result.failure.error;
    return created;
  }

  prepareUpstreamNetwork(bouncer: string): void {
    // applyUpstreamNetwork's round trip: create, set-plain, enable.
    this.transport.prepareSequence?.(bouncer);
  }

  userRun(bouncer: string, user: string, words: string[]): Promise<string[]> {
    return this.send(bouncer, ["user", "run", user, ...words]);
  }

  async createUser(
    bouncer: string,
    user: { username: string; password?: string; disablePassword?: boolean },
  ): Promise<"created" | "exists"> {
    // In `user create`, -admin/-enabled are plain bool flags (facts §5): we pass neither.
    const auth =
      user.password === undefined || user.disablePassword
        ? ["-disable-password"]
        : ["-password", user.password];
    try {
      await this.send(bouncer, ["user", "create", "-username", user.username, ...auth]);
      return "created";
    } catch (error) {
      if (error instanceof SojuCommandFailed && parseUserExists(error.reply) !== undefined)
        return "exists";
      throw error;
    }
  }

  async createOrUpdateNetwork(
    bouncer: string,
    user: string,
    network: NetworkSpec,
  ): Promise<"created" | "updated"> {
    assertNetworkName(network.name);
    const flags = networkFlags(network);
    try {
      await this.userRun(bouncer, user, ["network", "create", ...flags]);
      return "created";
    } catch (error) {
      if (!(error instanceof SojuCommandFailed) || parseNetworkExists(error.reply) === undefined)
        throw error;
    }
    this.log.debug({ bouncer, user, network: network.name }, "soju network exists; updating it");
    await this.userRun(bouncer, user, ["network", "update", network.name, ...flags]);
    return "updated";
  }

  async setSaslPlain(
    bouncer: string,
    user: string,
    network: string,
    username: string,
    password: string,
  ): Promise<void> {
    // `--` ends the flags, so a username or password starting with '-' stays positional.
    await this.userRun(bouncer, user, [
      "sasl",
      "set-plain",
      "-network",
      network,
      "--",
      username,
      password,
    ]);
  }

  async enableNetwork(bouncer: string, user: string, network: string): Promise<void> {
    await this.userRun(bouncer, user, ["network", "update", network, "-enabled", "true"]);
  }

  async setUserEnabled(bouncer: string, username: string, enabled: boolean): Promise<void> {
    // In `user update` the boolean takes a separate value (facts §5): `-enabled false`.
    // `--` would not help a name starting with '-': soju takes the username positionally first.
    await this.send(bouncer, ["user", "update", username, "-enabled", enabled ? "true" : "false"]);
  }

  async saslStatus(bouncer: string, user: string, network: string): Promise<SaslStatus> {
    let parsed = parseSaslStatus(
      await this.userRun(bouncer, user, ["sasl", "status", "-network", network]),
    );
    for (let retry = 1; parsed.state === undefined && retry <= this.saslStatusRetries; retry++) {
      this.log.debug(
        { bouncer, user, network, retry },
        "soju sasl status came without its state line; asking again",
      );
      parsed = parseSaslStatus(
        await this.userRun(bouncer, user, ["sasl", "status", "-network", network]),
      );
    }
    return saslStatusOf(parsed);
  }

  async networkStatus(bouncer: string, user: string): Promise<NetworkStatus[]> {
    return parseNetworkStatus(await this.userRun(bouncer, user, ["network", "status"]));
  }

  release(bouncer: string): Promise<void> {
    return this.transport.release(bouncer);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
