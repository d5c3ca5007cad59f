import { z } from "zod";

/**
 * The parts of IRCCloud's stream events an import reads (facts/irccloud.md "Events"), validated
 * with zod: IRCCloud calls its API unofficial, so every field we rely on is checked and every
 * optional one may be missing or null. Unknown fields are ignored.
 */

const text = z.string().max(4096);
/** IRCCloud sends "" (or null) for "none": both read as undefined. */
const optionalSecret = z
  .string()
  .max(1024)
  .nullish()
  .transform((v) => (v ? v : undefined));
const optionalText = z
  .string()
  .max(512)
  .nullish()
  .transform((v) => (v ? v : undefined));

export const makeServerEvent = z.object({
  type: z.enum(["makeserver", "server_details_changed"]),
  cid: z.number().int(),
  name: optionalText,
  hostname: z.string().min(1).max(255),
  port: z.coerce.number().int().min(1).max(65535),
  ssl: z.boolean().nullish(),
  nick: z.string().min(1).max(64),
  realname: optionalText,
  server_pass: optionalSecret,
  nickserv_nick: optionalText,
  nickserv_pass: optionalSecret,
});

export const makeBufferEvent = z.object({
  type: z.literal("makebuffer"),
  cid: z.number().int(),
  bid: z.number().int(),
  name: text,
  buffer_type: z.string(),
  archived: z.boolean().nullish(),
  deferred: z.boolean().nullish(),
});

const modeOp = z.object({ mode: z.string(), param: z.string().nullish() });

export const channelInitEvent = z.object({
  type: z.literal("channel_init"),
  cid: z.number().int(),
  bid: z.number().int(),
  chan: text,
  mode: z.string().nullish(),
  ops: z.object({ add: z.array(modeOp).nullish(), remove: z.array(modeOp).nullish() }).nullish(),
});

/** A channel as the import sees it. `key` only when IRCCloud sent the channel's +k value. */
export interface IrccloudChannel {
  name: string;
  archived: boolean;
  key?: string;
}

export interface IrccloudNetwork {
  /** IRCCloud's connection id (stable within the account). */
  cid: number;
  /** The name shown in IRCCloud; the hostname when the user never named it. */
  name: string;
  host: string;
  port: number;
  tls: boolean;
  nick: string;
  realname?: string;
  serverPassword?: string;
  /** NickServ (SASL) login: the account defaults to the nick. */
  nickservAccount?: string;
  nickservPassword?: string;
  channels: IrccloudChannel[];
}

export interface IrccloudAccount {
  networks: IrccloudNetwork[];
  /** Events of a known type that did not have the shape we need (left out of the preview). */
  unreadable: number;
}
