import { createHash } from "node:crypto";
import {
  errorText,
  ircLower,
  SojuError,
  type Bouncer,
  type SojuNetwork,
  type SojuUser,
} from "./bouncer";
import { FlagError, FlagHelpRequested, GoFlagSet, type FlagValue } from "./goflag";
import { parseIrcLine } from "./irc";
import { hashPassword } from "./password";
import {
  newChannelRecord,
  newNetworkRecord,
  newUserRecord,
  type ChannelRecord,
  type NetworkRecord,
} from "./store";
import { splitWords, SplitWordsError, goQuote } from "./words";

/** soju's serviceContext. Over the admin socket: no user, no network, admin. */
export interface ServiceContext {
  bouncer: Bouncer;
  user?: SojuUser;
  network?: SojuNetwork;
  nick?: string;
  admin: boolean;
  print: (text: string) => void;
}

type Handler = (ctx: ServiceContext, params: string[]) => Promise<void>;

interface ServiceCommand {
  usage?: string;
  desc?: string;
  handle?: Handler;
  children?: CommandSet;
  admin?: boolean;
  global?: boolean;
}

type CommandSet = Record<string, ServiceCommand>;

const fail = (text: string): never => {
  throw new SojuError(text);
};

/** serviceCommandSet.Get: exact name, else a unique prefix; descends into children. */
function getCommand(cmds: CommandSet, params: string[]): { cmd: ServiceCommand; params: string[] } {
  const [name, ...rest] = params;
  if (name === undefined) return fail("no command specified");
  let cmd = Object.hasOwn(cmds, name) ? cmds[name] : undefined;
  if (!cmd) {
    for (const key of Object.keys(cmds)) {
      if (!key.startsWith(name)) continue;
      if (cmd) fail(`command ${goQuote(name)} is ambiguous`);
      cmd = cmds[key];
    }
  }
  if (!cmd) return fail(`command ${goQuote(name)} not found`);
  if (rest.length === 0 || !cmd.children) return { cmd, params: rest };
  return getCommand(cmd.children, rest);
}

function appendHelp(
  cmds: CommandSet,
  prefix: string[],
  admin: boolean,
  global: boolean,
  out: string[],
): void {
  for (const name of Object.keys(cmds).sort()) {
    const cmd = cmds[name];
    if (!cmd) continue;
    if (cmd.admin && !admin) continue;
    if (!cmd.global && global) continue;
    const words = [...prefix, name];
    if (!cmd.children) out.push(words.join(" "));
    else appendHelp(cmd.children, words, admin, global, out);
  }
}

/** handleServicePRIVMSG: split the text soju-style, then run it. Throws SojuError with soju's text. */
export async function handleServiceText(ctx: ServiceContext, text: string): Promise<void> {
  let words: string[];
  try {
    words = splitWords(text);
  } catch (error) {
    if (error instanceof SplitWordsError) fail(`failed to parse command: ${error.message}`);
    throw error;
  }
  await handleServiceCommand(ctx, words);
}

export async function handleServiceCommand(ctx: ServiceContext, words: string[]): Promise<void> {
  let found: { cmd: ServiceCommand; params: string[] };
  try {
    found = getCommand(serviceCommands, words);
  } catch (error) {
    return fail(`${errorText(error)} (type "help" for a list of commands)`);
  }
  const { cmd, params } = found;
  if (cmd.admin && !ctx.admin) fail("you must be an admin to use this command");
  if (!cmd.global && !ctx.user)
    fail("this command must be run as a user (try running with user run)");
  if (!cmd.handle) {
    if (cmd.children) {
      const list: string[] = [];
      appendHelp(
        cmd.children,
        words.slice(0, words.length - params.length),
        ctx.admin,
        !ctx.user,
        list,
      );
      ctx.print(`available commands: ${list.join(", ")}`);
      return;
    }
    fail(`command ${goQuote(words[0] ?? "")} not found`);
  }
  try {
    await cmd.handle?.(ctx, params);
  } catch (error) {
    if (error instanceof FlagHelpRequested) {
      // soju 0.10.1 (seen): `unsupported flag (type "help network create" for a help message)`
      const name = words.slice(0, words.length - params.length).join(" ");
      throw new FlagError(`unsupported flag (type "help ${name}" for a help message)`);
    }
    if (error instanceof SojuError || error instanceof FlagError) throw error;
    throw new SojuError(errorText(error));
  }
}

const requireUser = (ctx: ServiceContext): SojuUser =>
  ctx.user ?? fail("this command must be run as a user (try running with user run)");

function noExtraArgs(rest: string[]): void {
  if (rest.length > 0) fail(`unexpected argument: ${rest[0]}`);
}

// ---------------------------------------------------------------- help

async function handleHelp(ctx: ServiceContext, params: string[]): Promise<void> {
  const list: string[] = [];
  if (params.length === 0) {
    appendHelp(serviceCommands, [], ctx.admin, !ctx.user, list);
    ctx.print(`available commands: ${list.join(", ")}`);
    return;
  }
  const { cmd, params: rest } = getCommand(serviceCommands, params);
  const words = params.slice(0, params.length - rest.length);
  if (cmd.children) {
    appendHelp(cmd.children, words, ctx.admin, !ctx.user, list);
    ctx.print(`available commands: ${list.join(", ")}`);
    return;
  }
  let text = words.join(" ");
  if (cmd.usage) text += ` ${cmd.usage}`;
  ctx.print(`${text}: ${cmd.desc ?? ""}`);
}

// ---------------------------------------------------------------- network

interface NetworkFlags {
  fs: GoFlagSet;
  addr: FlagValue<string | undefined>;
  name: FlagValue<string | undefined>;
  nick: FlagValue<string | undefined>;
  username: FlagValue<string | undefined>;
  pass: FlagValue<string | undefined>;
  realname: FlagValue<string | undefined>;
  certfp: FlagValue<string | undefined>;
  autoAway: FlagValue<boolean | undefined>;
  enabled: FlagValue<boolean | undefined>;
  connectCommands: FlagValue<string[] | undefined>;
  ignoreLimit: FlagValue<boolean>;
}

function networkFlagSet(): NetworkFlags {
  const fs = new GoFlagSet();
  return {
    fs,
    addr: fs.stringPtr("addr"),
    name: fs.stringPtr("name"),
    nick: fs.stringPtr("nick"),
    username: fs.stringPtr("username"),
    pass: fs.stringPtr("pass"),
    realname: fs.stringPtr("realname"),
    certfp: fs.stringPtr("certfp"),
    autoAway: fs.boolPtr("auto-away"),
    enabled: fs.boolPtr("enabled"),
    connectCommands: fs.stringSlice("connect-command"),
    ignoreLimit: fs.bool("ignore-limit"),
  };
}

/** networkFlagSet.update (its errors are returned unwrapped, e.g. the irc:// rejection of facts §4). */
function applyNetworkFlags(flags: NetworkFlags, record: NetworkRecord): void {
  const addr = flags.addr.value;
  if (addr !== undefined) {
    const parts = addr.split("://");
    if (parts.length >= 2) {
      const scheme = parts[0] ?? "";
      if (!["ircs", "irc+insecure", "unix"].includes(scheme)) {
        fail(`unknown scheme ${goQuote(scheme)} (supported schemes: ircs, irc+insecure, unix)`);
      }
    }
    record.addr = addr;
  }
  if (flags.name.value !== undefined) {
    if (flags.name.value === "*") fail(`the network name ${goQuote("*")} is reserved`);
    record.name = flags.name.value;
  }
  if (flags.nick.value !== undefined) record.nick = flags.nick.value;
  if (flags.username.value !== undefined) record.username = flags.username.value;
  if (flags.pass.value !== undefined) record.pass = flags.pass.value;
  if (flags.realname.value !== undefined) record.realname = flags.realname.value;
  if (flags.certfp.value !== undefined) {
    const certfp = flags.certfp.value.replaceAll(":", "").toLowerCase();
    if (!/^([0-9a-f]{2})*$/.test(certfp)) fail("the certificate fingerprint must be hex-encoded");
    if (certfp.length === 0) record.certfp = "";
    else if (certfp.length === 64) record.certfp = `sha-256:${certfp}`;
    else if (certfp.length === 128) record.certfp = `sha-512:${certfp}`;
    else fail("the certificate fingerprint must be a SHA256 or SHA512 hash");
  }
  if (flags.autoAway.value !== undefined) record.autoAway = flags.autoAway.value;
  if (flags.enabled.value !== undefined) record.enabled = flags.enabled.value;
  const commands = flags.connectCommands.value;
  if (commands !== undefined) {
    if (commands.length === 1 && commands[0] === "") {
      record.connectCommands = [];
    } else {
      if (commands.length > 20) fail("too many -connect-command flags supplied");
      for (const command of commands) {
        try {
          if (command === "") throw new Error("irc: cannot parse zero-length message");
          parseIrcLine(command);
        } catch (error) {
          fail(
            `flag -connect-command must be a valid raw irc command string: ${goQuote(command)}: ${errorText(error)}`,
          );
        }
      }
      record.connectCommands = [...commands];
    }
  }
}

function popArg(params: string[]): [string, string[]] {
  const [first, ...rest] = params;
  if (first !== undefined && !first.startsWith("-")) return [first, rest];
  return ["", params];
}

function networkFromArg(ctx: ServiceContext, params: string[]): [SojuNetwork, string[]] {
  const user = requireUser(ctx);
  const [name, rest] = popArg(params);
  if (name === "") {
    if (!ctx.network) fail("no network selected, a name argument is required");
    return [ctx.network as SojuNetwork, rest];
  }
  const net = user.getNetwork(name);
  if (!net) return fail(`unknown network ${goQuote(name)}`);
  return [net, rest];
}

function networkFromFlag(ctx: ServiceContext, name: string): SojuNetwork {
  const user = requireUser(ctx);
  if (name === "") {
    if (!ctx.network) fail("no network selected, -network is required");
    return ctx.network as SojuNetwork;
  }
  return user.getNetwork(name) ?? fail(`unknown network ${goQuote(name)}`);
}

async function handleNetworkCreate(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  const flags = networkFlagSet();
  noExtraArgs(flags.fs.parse(params));
  if (flags.addr.value === undefined) fail("flag -addr is required");
  const record = newNetworkRecord(flags.addr.value ?? "");
  applyNetworkFlags(flags, record);
  let network: SojuNetwork;
  try {
    network = await user.createNetwork(record, flags.ignoreLimit.value);
  } catch (error) {
    return fail(`could not create network: ${errorText(error)}`);
  }
  ctx.print(`created network ${goQuote(network.name)}`);
}

async function handleNetworkStatus(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  if (params.length !== 0) fail("expected no argument");
  let n = 0;
  for (const net of user.networks) {
    const statuses: string[] = [];
    let details = "";
    const uc = net.conn;
    if (uc) {
      statuses.push(ctx.nick && ctx.nick !== uc.nick ? `connected as ${uc.nick}` : "connected");
      details = `${uc.channels.size} channels`;
    } else if (!net.record.enabled) {
      statuses.push("disabled");
    } else {
      statuses.push("disconnected");
      if (net.lastError) details = net.lastError;
    }
    if (net === ctx.network) statuses.push("current");
    let name = net.name;
    if (name !== net.record.addr) name = `${name} (${net.record.addr})`;
    let line = `${name} [${statuses.join(", ")}]`;
    if (details) line += `: ${details}`;
    ctx.print(line);
    n += 1;
  }
  if (n === 0) ctx.print('No network configured, add one with "network create".');
}

async function handleNetworkUpdate(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  const [net, rest] = networkFromArg(ctx, params);
  const flags = networkFlagSet();
  noExtraArgs(flags.fs.parse(rest));
  const record: NetworkRecord = { ...net.record, connectCommands: [...net.record.connectCommands] };
  applyNetworkFlags(flags, record);
  let updated: SojuNetwork;
  try {
    updated = await user.updateNetwork(record, flags.ignoreLimit.value);
  } catch (error) {
    return fail(`could not update network: ${errorText(error)}`);
  }
  ctx.print(`updated network ${goQuote(updated.name)}`);
}

async function handleNetworkDelete(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  if (params.length !== 1) fail("expected exactly one argument");
  const [net] = networkFromArg(ctx, params);
  await user.deleteNetwork(net);
  ctx.print(`deleted network ${goQuote(net.name)}`);
}

async function handleNetworkQuote(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 1 && params.length !== 2) fail("expected one or two arguments");
  const raw = params[params.length - 1] ?? "";
  const [net] = networkFromArg(ctx, params.slice(0, -1));
  const uc = net.conn;
  if (!uc) return fail(`network ${goQuote(net.name)} is not currently connected`);
  try {
    if (raw === "") throw new Error("irc: cannot parse zero-length message");
    parseIrcLine(raw);
  } catch (error) {
    fail(`failed to parse command ${goQuote(raw)}: ${errorText(error)}`);
  }
  uc.sendRaw(raw);
  ctx.print(`sent command to ${goQuote(net.name)}`);
}

// ---------------------------------------------------------------- certfp

function certfpFingerprints(ctx: ServiceContext, cert: Buffer): void {
  ctx.print(`SHA-1 fingerprint: ${createHash("sha1").update(cert).digest("hex")}`);
  ctx.print(`SHA-256 fingerprint: ${createHash("sha256").update(cert).digest("hex")}`);
  ctx.print(`SHA-512 fingerprint: ${createHash("sha512").update(cert).digest("hex")}`);
}

async function handleCertfpGenerate(ctx: ServiceContext, params: string[]): Promise<void> {
  const fs = new GoFlagSet();
  const netName = fs.string("network");
  fs.string("key-type", "rsa");
  const bits = fs.int("bits", 3072);
  noExtraArgs(fs.parse(params));
  if (bits.value <= 0 || bits.value > 8192) fail("invalid value for -bits");
  networkFromFlag(ctx, netName.value);
  fail("certfp generate is not supported by the soju stand-in");
}

async function handleCertfpFingerprint(ctx: ServiceContext, params: string[]): Promise<void> {
  const fs = new GoFlagSet();
  const netName = fs.string("network");
  noExtraArgs(fs.parse(params));
  const net = networkFromFlag(ctx, netName.value);
  if (net.record.saslMechanism !== "EXTERNAL" || !net.record.saslExternalCert)
    return fail("CertFP not set up");
  certfpFingerprints(ctx, net.record.saslExternalCert);
}

// ---------------------------------------------------------------- sasl

async function handleSaslStatus(ctx: ServiceContext, params: string[]): Promise<void> {
  const fs = new GoFlagSet();
  const netName = fs.string("network");
  noExtraArgs(fs.parse(params));
  const net = networkFromFlag(ctx, netName.value);
  switch (net.record.saslMechanism) {
    case "PLAIN":
      ctx.print(`SASL PLAIN enabled with username ${goQuote(net.record.saslPlainUsername)}`);
      break;
    case "EXTERNAL":
      ctx.print("SASL EXTERNAL (CertFP) enabled");
      break;
    case "":
      ctx.print("SASL is disabled");
  }
  const uc = net.conn;
  if (uc) {
    if (uc.account)
      ctx.print(`Authenticated on upstream network with account ${goQuote(uc.account)}`);
    else ctx.print("Unauthenticated on upstream network");
  } else {
    ctx.print("Disconnected from upstream network");
  }
}

async function handleSaslSetPlain(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  const fs = new GoFlagSet();
  const netName = fs.string("network");
  const rest = fs.parse(params);
  if (rest.length !== 2) fail("expected exactly 2 arguments");
  const net = networkFromFlag(ctx, netName.value);
  net.record.saslPlainUsername = rest[0] ?? "";
  net.record.saslPlainPassword = rest[1] ?? "";
  net.record.saslMechanism = "PLAIN";
  await ctx.bouncer.store.storeNetwork(user.record.id, net.record);
  ctx.print("credentials saved");
}

async function handleSaslReset(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  const fs = new GoFlagSet();
  const netName = fs.string("network");
  noExtraArgs(fs.parse(params));
  const net = networkFromFlag(ctx, netName.value);
  Object.assign(net.record, {
    saslPlainUsername: "",
    saslPlainPassword: "",
    saslExternalCert: null,
    saslExternalKey: null,
    saslMechanism: "",
  } satisfies Partial<NetworkRecord>);
  await ctx.bouncer.store.storeNetwork(user.record.id, net.record);
  ctx.print("credentials reset");
}

// ---------------------------------------------------------------- user

async function handleUserStatus(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length > 1) fail("expected at most one argument");
  let users = [...ctx.bouncer.users.values()];
  const [username] = params;
  if (username !== undefined) {
    const user = ctx.bouncer.getUser(username);
    if (!user) return fail(`unknown username ${goQuote(username)}`);
    users = [user];
  }
  const total = users.length;
  for (const user of users.slice(0, 50)) {
    const attrs: string[] = [];
    if (user.record.admin) attrs.push("admin");
    if (!user.record.enabled) attrs.push("disabled");
    let line = user.record.username;
    if (attrs.length > 0) line += ` (${attrs.join(", ")})`;
    let count: number;
    try {
      count = await ctx.bouncer.store.countNetworks(user.record.id);
    } catch (error) {
      return fail(
        `could not get networks of user ${goQuote(user.record.username)}: ${errorText(error)}`,
      );
    }
    line += `: ${count} networks`;
    if (user.record.maxNetworks >= 0) line += ` (${user.record.maxNetworks} max)`;
    ctx.print(line);
  }
  if (total > 50) ctx.print(`(${total - 50} more users omitted)`);
}

async function handleUserCreate(ctx: ServiceContext, params: string[]): Promise<void> {
  const fs = new GoFlagSet();
  const username = fs.string("username");
  const password = fs.string("password");
  const disablePassword = fs.bool("disable-password");
  const nick = fs.string("nick");
  const realname = fs.string("realname");
  const admin = fs.bool("admin");
  const enabled = fs.bool("enabled", true);
  const maxNetworks = fs.int("max-networks", -1);
  noExtraArgs(fs.parse(params));
  if (username.value === "") fail("flag -username is required");
  if (password.value !== "" && disablePassword.value)
    fail("flags -password and -disable-password are mutually exclusive");
  if (password.value === "" && !disablePassword.value) fail("flag -password is required");
  const record = newUserRecord(username.value);
  record.nick = nick.value;
  record.realname = realname.value;
  record.admin = admin.value;
  record.enabled = enabled.value;
  record.maxNetworks = maxNetworks.value;
  if (!disablePassword.value) record.password = await hashPassword(password.value);
  try {
    await ctx.bouncer.createUser(record);
  } catch (error) {
    return fail(`could not create user: ${errorText(error)}`);
  }
  ctx.print(`created user ${goQuote(username.value)}`);
}

async function handleUserUpdate(ctx: ServiceContext, params: string[]): Promise<void> {
  const fs = new GoFlagSet();
  const password = fs.stringPtr("password");
  const disablePassword = fs.bool("disable-password");
  const nick = fs.stringPtr("nick");
  const realname = fs.stringPtr("realname");
  const admin = fs.boolPtr("admin");
  const enabled = fs.boolPtr("enabled");
  const maxNetworks = fs.intPtr("max-networks");
  const [username, rest] = popArg(params);
  noExtraArgs(fs.parse(rest));
  if (username === "" && !ctx.user) fail("cannot determine the user to update");
  if (password.value !== undefined && disablePassword.value)
    fail("flags -password and -disable-password are mutually exclusive");

  if (username !== "" && (!ctx.user || username !== ctx.user.record.username)) {
    if (!ctx.admin) fail("you must be an admin to update other users");
    if (nick.value !== undefined) fail("cannot update -nick of other user");
    if (realname.value !== undefined) fail("cannot update -realname of other user");
    let hashed: string | undefined;
    if (password.value !== undefined) hashed = await hashPassword(password.value);
    if (disablePassword.value) hashed = "";
    const user = ctx.bouncer.getUser(username);
    if (!user) return fail(`unknown username ${goQuote(username)}`);
    await user.updateUser((record) => {
      if (hashed !== undefined) record.password = hashed;
      if (admin.value !== undefined) record.admin = admin.value;
      if (enabled.value !== undefined) record.enabled = enabled.value;
      if (maxNetworks.value !== undefined) record.maxNetworks = maxNetworks.value;
    });
    // A new password kicks the user's clients so they re-authenticate.
    if (hashed !== undefined) for (const dc of [...user.downstreams]) dc.close();
    ctx.print(`updated user ${goQuote(username)}`);
    return;
  }

  const user = requireUser(ctx);
  if (admin.value !== undefined) fail("cannot update -admin of own user");
  if (enabled.value !== undefined) fail("cannot update -enabled of own user");
  if (maxNetworks.value !== undefined) fail("cannot update -max-networks of own user");
  const hashed = password.value !== undefined ? await hashPassword(password.value) : undefined;
  await user.updateUser((record) => {
    if (hashed !== undefined) record.password = hashed;
    if (disablePassword.value) record.password = "";
    if (nick.value !== undefined) record.nick = nick.value;
    if (realname.value !== undefined) record.realname = realname.value;
  });
  ctx.print(`updated user ${goQuote(user.record.username)}`);
}

/** The confirmation token: the first 3 bytes of SHA-1(username), in hex. */
export function userDeleteToken(username: string): string {
  return createHash("sha1").update(username, "utf8").digest().subarray(0, 3).toString("hex");
}

async function handleUserDelete(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 1 && params.length !== 2) fail("expected one or two arguments");
  const username = params[0] ?? "";
  const token = userDeleteToken(username);
  const self = ctx.user?.record.username === username;
  if (!ctx.admin && !self) fail("only admins may delete other users");
  const user = ctx.bouncer.getUser(username);
  if (!user) return fail(`unknown username ${goQuote(username)}`);
  if (params.length < 2) {
    ctx.print(`To confirm user deletion, send "user delete ${username} ${token}"`);
    return;
  }
  if (params[1] !== token) fail("provided confirmation token doesn't match user");
  if (self)
    ctx.print(`Goodbye ${username}, deleting your account. There will be no further confirmation.`);
  await ctx.bouncer.deleteUser(user);
  if (!self) ctx.print(`deleted user ${goQuote(username)}`);
}

async function handleUserRun(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length < 2) fail("expected at least two arguments");
  const [username = "", ...words] = params;
  if (ctx.user && username === ctx.user.record.username) {
    await handleServiceCommand(ctx, words);
    return;
  }
  const user = ctx.bouncer.getUser(username);
  if (!user) return fail(`unknown username ${goQuote(username)}`);
  // v0.9.0+: runs as admin, and every output line arrives (the v0.7.0 lost-line race is fixed).
  await handleServiceCommand({ bouncer: ctx.bouncer, user, admin: true, print: ctx.print }, words);
}

// ---------------------------------------------------------------- channel

const filters: Record<string, number> = { default: 0, none: 1, highlight: 2, message: 3 };

function parseFilter(value: string): number {
  const filter = filters[value];
  if (filter === undefined) return fail(`unknown filter: ${goQuote(value)}`);
  return filter;
}

/** Go's time.ParseDuration, to whole seconds (as stored). Undefined when invalid. */
export function parseGoDurationSeconds(value: string): number | undefined {
  const units: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    μs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  let s = value;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  while (s.length > 0) {
    const match = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/.exec(s);
    if (!match || match[1] === "" || match[1] === ".") return undefined;
    total += Number(match[1]) * (units[match[2] ?? ""] ?? 0);
    s = s.slice(match[0].length);
  }
  return sign * Math.trunc(total);
}

interface ChannelFlags {
  fs: GoFlagSet;
  detached: FlagValue<boolean | undefined>;
  relayDetached: FlagValue<string | undefined>;
  reattachOn: FlagValue<string | undefined>;
  detachAfter: FlagValue<string | undefined>;
  detachOn: FlagValue<string | undefined>;
}

function channelFlagSet(): ChannelFlags {
  const fs = new GoFlagSet();
  return {
    fs,
    detached: fs.boolPtr("detached"),
    relayDetached: fs.stringPtr("relay-detached"),
    reattachOn: fs.stringPtr("reattach-on"),
    detachAfter: fs.stringPtr("detach-after"),
    detachOn: fs.stringPtr("detach-on"),
  };
}

function applyChannelFlags(flags: ChannelFlags, channel: ChannelRecord): void {
  if (flags.relayDetached.value !== undefined)
    channel.relayDetached = parseFilter(flags.relayDetached.value);
  if (flags.reattachOn.value !== undefined)
    channel.reattachOn = parseFilter(flags.reattachOn.value);
  if (flags.detachAfter.value !== undefined) {
    const seconds = parseGoDurationSeconds(flags.detachAfter.value);
    if (seconds === undefined || seconds < 0) {
      fail(
        `unknown duration for -detach-after ${goQuote(flags.detachAfter.value)} (duration format: 0, 300s, 22h30m, ...)`,
      );
    }
    channel.detachAfter = seconds ?? 0;
  }
  if (flags.detachOn.value !== undefined) channel.detachOn = parseFilter(flags.detachOn.value);
  if (flags.detached.value !== undefined) channel.detached = flags.detached.value;
}

/** stripNetworkSuffix: with no current network the name must be `#chan/<network>`. */
function stripNetworkSuffix(ctx: ServiceContext, name: string): [string, SojuNetwork] {
  if (ctx.network) return [name, ctx.network];
  const user = requireUser(ctx);
  const slash = name.indexOf("/");
  if (slash === -1) fail("missing network name");
  const channel = name.slice(0, slash);
  const netName = name.slice(slash + 1);
  const net = user.networks.find((n) => n.name === netName);
  if (!net) return fail(`unknown network ${goQuote(netName)}`);
  return [channel, net];
}

async function handleChannelStatus(ctx: ServiceContext, params: string[]): Promise<void> {
  const user = requireUser(ctx);
  const fs = new GoFlagSet();
  const networkName = fs.string("network", ctx.network?.name ?? "");
  noExtraArgs(fs.parse(params));
  let n = 0;
  const sendNetwork = (net: SojuNetwork) => {
    const channels = [...net.channels.values()].sort((a, b) => {
      const x = a.name.replaceAll("#", "");
      const y = b.name.replaceAll("#", "");
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (const ch of channels) {
      let name = ch.name;
      if (networkName.value === "") name += `/${net.name}`;
      let status = net.conn?.channels.has(ircLower(ch.name))
        ? "joined"
        : net.conn
          ? "parted"
          : "disconnected";
      if (ch.detached) status += ", detached";
      ctx.print(`${name} [${status}]`);
      n += 1;
    }
  };
  if (networkName.value === "") {
    for (const net of user.networks) sendNetwork(net);
  } else {
    const net = user.getNetwork(networkName.value);
    if (!net) return fail(`unknown network ${goQuote(networkName.value)}`);
    sendNetwork(net);
  }
  if (n === 0) ctx.print("No channel configured.");
}

async function handleChannelCreate(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length < 1) fail("expected at least one argument");
  const flags = channelFlagSet();
  noExtraArgs(flags.fs.parse(params.slice(1)));
  const [name, net] = stripNetworkSuffix(ctx, params[0] ?? "");
  if (name === "" || [" ", ",", "\u0007", "\r", "\n", "\u0000"].some((c) => name.includes(c)))
    fail(`invalid channel name: ${goQuote(name)}`);
  // soju 0.10.1 (seen): only checked against a connected upstream's CHANTYPES, name unquoted
  if (net.conn && !net.conn.chantypes.includes(name[0] ?? "")) fail(`not a channel name: ${name}`);
  if (net.channels.has(ircLower(name))) fail(`channel ${goQuote(name)} already exists`);
  const channel = newChannelRecord(name);
  applyChannelFlags(flags, channel);
  try {
    await ctx.bouncer.store.storeChannel(net.record.id, channel);
  } catch (error) {
    fail(`failed to create channel: ${errorText(error)}`);
  }
  net.channels.set(ircLower(name), channel);
  net.conn?.send({ command: "JOIN", params: [name] });
  ctx.print(`created channel ${goQuote(name)}`);
}

async function handleChannelUpdate(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length < 1) fail("expected at least one argument");
  const flags = channelFlagSet();
  noExtraArgs(flags.fs.parse(params.slice(1)));
  const [name, net] = stripNetworkSuffix(ctx, params[0] ?? "");
  const channel = net.channels.get(ircLower(name));
  if (!channel) return fail(`unknown channel ${goQuote(name)}`);
  const updated = { ...channel };
  applyChannelFlags(flags, updated);
  if (!updated.detached) updated.detachedInternalMsgid = "";
  try {
    await ctx.bouncer.store.storeChannel(net.record.id, updated);
  } catch (error) {
    fail(`failed to update channel: ${errorText(error)}`);
  }
  Object.assign(channel, updated);
  ctx.print(`updated channel ${goQuote(name)}`);
}

async function handleChannelDelete(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 1) fail("expected exactly one argument");
  const [name, net] = stripNetworkSuffix(ctx, params[0] ?? "");
  const channel = net.channels.get(ircLower(name));
  if (!channel) return fail(`failed to delete channel: unknown channel ${goQuote(name)}`);
  try {
    await ctx.bouncer.store.deleteChannel(channel.id);
  } catch (error) {
    fail(`failed to delete channel: ${errorText(error)}`);
  }
  net.channels.delete(ircLower(name));
  if (net.conn?.channels.has(ircLower(name))) net.conn.send({ command: "PART", params: [name] });
  ctx.print(`deleted channel ${goQuote(name)}`);
}

// ---------------------------------------------------------------- server

/** `server debug true|false` (soju 0.10.1): switches soju's debug log; the stand-in has none. */
async function handleServerDebug(_ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 1) fail("expected exactly one argument");
  const value = params[0] ?? "";
  if (
    !["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"].includes(
      value,
    )
  )
    fail(`strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
}

async function handleServerStatus(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 0) fail("expected no argument");
  const db = await ctx.bouncer.store.stats();
  const b = ctx.bouncer;
  ctx.print(
    `${b.users.size}/${db.users} users, ${b.downstreamCount()} downstreams, ${b.upstreamCount()} upstreams, ${db.networks} networks, ${db.channels} channels`,
  );
}

async function handleServerNotice(ctx: ServiceContext, params: string[]): Promise<void> {
  if (params.length !== 1) fail("expected exactly one argument");
  const text = params[0] ?? "";
  const line = `:BouncerServ!BouncerServ@BouncerServ NOTICE $${ctx.bouncer.config.hostname} :${text}`;
  let total = 0;
  for (const user of ctx.bouncer.users.values()) {
    total += 1;
    for (const dc of user.downstreams) dc.sendLine(line);
  }
  ctx.print(`sent to ${total}/${total} downstream connections`);
}

const channelFilterUsage = "default|none|highlight|message";
const channelUsage = `<name> [-detached true|false] [-relay-detached ${channelFilterUsage}] [-reattach-on ${channelFilterUsage}] [-detach-after <duration>] [-detach-on ${channelFilterUsage}]`;

/** The command tree of soju v0.10.1 (global = usable without a user, e.g. over the admin socket). */
export const serviceCommands: CommandSet = {
  help: { usage: "[command]", desc: "print help message", handle: handleHelp, global: true },
  network: {
    children: {
      create: {
        usage:
          "-addr <addr> [-name name] [-username username] [-pass pass] [-realname realname] [-certfp fingerprint] [-nick nick] [-auto-away auto-away] [-enabled enabled] [-ignore-limit ignore-limit] [-connect-command command]...",
        desc: "add a new network",
        handle: handleNetworkCreate,
      },
      status: {
        desc: "show a list of saved networks and their current status",
        handle: handleNetworkStatus,
      },
      update: {
        usage:
          "[name] [-addr addr] [-name name] [-username username] [-pass pass] [-realname realname] [-certfp fingerprint] [-nick nick] [-auto-away auto-away] [-enabled enabled] [-ignore-limit ignore-limit] [-connect-command command]...",
        desc: "update a network",
        handle: handleNetworkUpdate,
      },
      delete: { usage: "[name]", desc: "delete a network", handle: handleNetworkDelete },
      quote: {
        usage: "[name] <command>",
        desc: "send a raw line to a network",
        handle: handleNetworkQuote,
      },
    },
  },
  certfp: {
    children: {
      generate: {
        usage: "[-key-type rsa|ecdsa|ed25519] [-bits N] [-network name]",
        desc: "generate a new self-signed certificate, defaults to using RSA-3072 key",
        handle: handleCertfpGenerate,
      },
      fingerprint: {
        usage: "[-network name]",
        desc: "show fingerprints of certificate",
        handle: handleCertfpFingerprint,
      },
    },
  },
  sasl: {
    children: {
      status: { usage: "[-network name]", desc: "show SASL status", handle: handleSaslStatus },
      "set-plain": {
        usage: "[-network name] <username> <password>",
        desc: "set SASL PLAIN credentials",
        handle: handleSaslSetPlain,
      },
      reset: {
        usage: "[-network name]",
        desc: "disable SASL authentication and remove stored credentials",
        handle: handleSaslReset,
      },
    },
  },
  user: {
    global: true,
    children: {
      status: {
        usage: "[username]",
        desc: "show a list of users and their current status",
        handle: handleUserStatus,
        admin: true,
        global: true,
      },
      create: {
        usage:
          // the two spaces before -max-networks are soju 0.10.1's (seen)
          "-username <username> -password <password> [-disable-password] [-admin true|false] [-nick <nick>] [-realname <realname>] [-enabled true|false]  [-max-networks <max-networks>]",
        desc: "create a new soju user",
        handle: handleUserCreate,
        admin: true,
        global: true,
      },
      update: {
        usage:
          "[username] [-password <password>] [-disable-password] [-admin true|false] [-nick <nick>] [-realname <realname>] [-enabled true|false] [-max-networks <max-networks>]",
        desc: "update a user",
        handle: handleUserUpdate,
        global: true,
      },
      delete: {
        usage: "<username> [confirmation token]",
        desc: "delete a user",
        handle: handleUserDelete,
        global: true,
      },
      run: {
        usage: "<username> <command>",
        desc: "run a command as another user",
        handle: handleUserRun,
        admin: true,
        global: true,
      },
    },
  },
  channel: {
    children: {
      status: {
        usage: "[-network name]",
        desc: "show a list of saved channels and their current status",
        handle: handleChannelStatus,
      },
      create: {
        usage: channelUsage,
        desc: "create a channel",
        handle: handleChannelCreate,
      },
      update: {
        usage: channelUsage,
        desc: "update a channel",
        handle: handleChannelUpdate,
      },
      delete: { usage: "<name>", desc: "delete a channel", handle: handleChannelDelete },
    },
  },
  server: {
    admin: true,
    children: {
      status: {
        desc: "show server statistics",
        handle: handleServerStatus,
        admin: true,
        global: true,
      },
      notice: {
        usage: "<notice>",
        desc: "broadcast a notice to all connected bouncer users",
        handle: handleServerNotice,
        admin: true,
        global: true,
      },
      debug: {
        usage: "true|false",
        desc: "enable/disable debug logging to stderr (will leak sensitive information)",
        handle: handleServerDebug,
        admin: true,
        global: true,
      },
    },
  },
};
