import { randomBytes } from "node:crypto";
import { defaultIrccloudUsers, startIrccloudStandin } from "@irc-now/standins/irccloud";
import type { Env, LocalService } from "../stack";

/**
 * The IRCCloud stand-in for the import (unless IRCCLOUD_URL names a real IRCCloud), seeded with
 * one account of 3 networks and 11 channels that point at the local ergo, so what soju connects
 * to stays on this machine. Also provides IMPORT_SECRET_KEY (web and worker share it) unless set.
 */
export const irccloudService: LocalService = {
  name: "irccloud",
  async start(env: Env) {
    const key = {
      IMPORT_SECRET_KEY: env.IMPORT_SECRET_KEY ?? randomBytes(32).toString("base64url"),
    };
    if (env.IRCCLOUD_URL)
      return {
        env: key,
        info: [`using IRCCloud at ${env.IRCCLOUD_URL}`],
        stop: async () => undefined,
      };
    let at: { host: string; port: number } | undefined;
    if (env.ERGO_IRC_URL) {
      const u = new URL(env.ERGO_IRC_URL);
      at = { host: u.hostname, port: Number(u.port || 6667) };
    }
    const users = defaultIrccloudUsers(at);
    const standin = await startIrccloudStandin({ users });
    return {
      env: { ...key, IRCCLOUD_URL: standin.url },
      info: [
        `IRCCloud stand-in: ${standin.url}  (import at /import)`,
        ...users.map((u) => `import as ${u.email} / ${u.password}`),
      ],
      stop: () => standin.stop(),
    };
  },
};
