import { parseArgs } from "node:util";
import { startErgoStandin } from "./index";

// Runs the ergo stand-in on its own: `npx tsx tooling/standins/src/ergo/main.ts [--irc-port 6667]
// [--api-port 8089] [--tls] [--oper-name admin --oper-password …] [--api-token …]`.
const { values } = parseArgs({
  options: {
    "irc-port": { type: "string" },
    "ircs-port": { type: "string" },
    "api-port": { type: "string" },
    tls: { type: "boolean", default: false },
    "oper-name": { type: "string" },
    "oper-password": { type: "string" },
    "api-token": { type: "string" },
    "register-exists-code": { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

const port = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));
const code = values["register-exists-code"];

const ergo = await startErgoStandin({
  ircPort: port(values["irc-port"]),
  ircsPort: port(values["ircs-port"]),
  apiPort: port(values["api-port"]),
  tls: values.tls,
  opers:
    values["oper-password"] !== undefined
      ? [{ name: values["oper-name"] ?? "admin", password: values["oper-password"] }]
      : undefined,
  apiTokens: values["api-token"] !== undefined ? [values["api-token"]] : undefined,
  registerExistsCode: code === "ACCOUNT_EXISTS" ? "ACCOUNT_EXISTS" : "USERNAME_EXISTS",
  log: values.verbose ? (m) => console.log(`[ergo] ${m}`) : undefined,
});
for (const line of ergo.describe()) console.log(line);

const shutdown = () => {
  void ergo.stop().then(() => process.exit(0));
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
