import {
  channelInitEvent,
  makeBufferEvent,
  makeServerEvent,
  type IrccloudAccount,
  type IrccloudNetwork,
} from "./model";

/**
 * Folds the initial-state events (the OOB array and the socket's own events, in order) into
 * the servers and channels an import needs. Later events win (a `server_details_changed` after a
 * `makeserver`); deletions and archive changes are applied. A known event with a shape we
 * cannot read is counted, not fatal: the rest of the account still imports.
 */
export function accountFromEvents(events: readonly unknown[]): IrccloudAccount {
  const servers = new Map<number, Omit<IrccloudNetwork, "channels">>();
  const buffers = new Map<number, { cid: number; name: string; archived: boolean }>();
  const keys = new Map<number, string>();
  let unreadable = 0;

  for (const raw of events) {
    if (typeof raw !== "object" || raw === null) continue;
    const type = (raw as { type?: unknown }).type;
    const cid = (raw as { cid?: unknown }).cid;
    const bid = (raw as { bid?: unknown }).bid;
    switch (type) {
      case "makeserver":
      case "server_details_changed": {
        const e = makeServerEvent.safeParse(raw);
        if (!e.success) {
          unreadable++;
          break;
        }
        const s = e.data;
        servers.set(s.cid, {
          cid: s.cid,
          name: (s.name ?? s.hostname).trim() || s.hostname,
          host: s.hostname,
          port: s.port,
          tls: s.ssl === true,
          nick: s.nick,
          realname: s.realname,
          serverPassword: s.server_pass,
          nickservAccount: s.nickserv_pass ? (s.nickserv_nick ?? s.nick) : undefined,
          nickservPassword: s.nickserv_pass,
        });
        break;
      }
      case "makebuffer": {
        const e = makeBufferEvent.safeParse(raw);
        if (!e.success) {
          unreadable++;
          break;
        }
        if (e.data.buffer_type !== "channel") break;
        buffers.set(e.data.bid, {
          cid: e.data.cid,
          name: e.data.name,
          archived: e.data.archived === true,
        });
        break;
      }
      case "channel_init": {
        const e = channelInitEvent.safeParse(raw);
        if (!e.success) {
          unreadable++;
          break;
        }
        const key = e.data.ops?.add?.find((op) => op.mode === "k")?.param;
        if (key) keys.set(e.data.bid, key);
        else keys.delete(e.data.bid);
        break;
      }
      case "connection_deleted":
        if (typeof cid === "number") servers.delete(cid);
        break;
      case "delete_buffer":
        if (typeof bid === "number") buffers.delete(bid);
        break;
      case "buffer_archived":
      case "buffer_unarchived": {
        const b = typeof bid === "number" ? buffers.get(bid) : undefined;
        if (b) b.archived = type === "buffer_archived";
        break;
      }
      default:
        break;
    }
  }

  const networks: IrccloudNetwork[] = [...servers.values()].map((s) => ({ ...s, channels: [] }));
  const byCid = new Map(networks.map((n) => [n.cid, n]));
  for (const [bid, b] of buffers) {
    const network = byCid.get(b.cid);
    if (!network || !/^[#&+!]/.test(b.name)) continue;
    const key = keys.get(bid);
    network.channels.push({ name: b.name, archived: b.archived, ...(key ? { key } : {}) });
  }
  for (const n of networks) n.channels.sort((a, b) => a.name.localeCompare(b.name));
  return { networks, unreadable };
}
