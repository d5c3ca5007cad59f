"use client";

import Link from "next/link";
import { useState } from "react";
import { CopyButton } from "../../_components/copy-button";
import { NewAppPassword } from "../../_components/new-app-password";

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

/** The upstream network every bouncer gets (the worker's SOJU_UPSTREAM_NETWORK default). */
const NETWORK = "irc.now";
const PLACEHOLDER = "<app password>";

interface Connection {
  host: string;
  port: number;
  tls: boolean;
  username: string;
}

/** Copy-paste setups, each logging in with SASL PLAIN (soju checks it through irc.now). */
function snippets(c: Connection, password: string): Array<{ client: string; text: string }> {
  const senpaiAddress = c.tls ? `${c.host}:${c.port}` : `irc+insecure://${c.host}:${c.port}`;
  return [
    {
      client: "WeeChat",
      text: [
        `/server add ${NETWORK} ${c.host}/${c.port}${c.tls ? " -tls" : " -notls"}`,
        `/set irc.server.${NETWORK}.sasl_mechanism plain`,
        `/set irc.server.${NETWORK}.sasl_username ${c.username}`,
        `/set irc.server.${NETWORK}.sasl_password ${password}`,
        `/set irc.server.${NETWORK}.nicks ${c.username}`,
        `/connect ${NETWORK}`,
      ].join("\n"),
    },
    {
      client: "irssi",
      text: [
        `/network add -sasl_mechanism PLAIN -sasl_username ${c.username} -sasl_password ${password} -nick ${c.username} ${NETWORK}`,
        `/server add -auto -network ${NETWORK}${c.tls ? " -tls" : " -notls"} ${c.host} ${c.port}`,
        `/connect ${NETWORK}`,
      ].join("\n"),
    },
    {
      client: "HexChat",
      text: [
        "HexChat → Network List → Add, name it irc.now, then Edit:",
        `  Servers: ${c.host}/${c.port}`,
        `  Use SSL for all the servers on this network: ${c.tls ? "on" : "off"}`,
        "  Login method: SASL (username + password)",
        `  User name: ${c.username}`,
        `  Password: ${password}`,
      ].join("\n"),
    },
    {
      client: "Senpai",
      text: [
        "# ~/.config/senpai/senpai.scfg (senpai logs in with SASL PLAIN)",
        `address ${senpaiAddress}`,
        `nickname ${c.username}`,
        `username ${c.username}`,
        `password "${password}"`,
      ].join("\n"),
    },
    {
      client: "Any other client",
      text: [
        `Server:         ${c.host}`,
        `Port:           ${c.port}`,
        `TLS:            ${c.tls ? "yes" : "no"}`,
        "SASL mechanism: PLAIN",
        `SASL username:  ${c.username}   (or ${c.username}/${NETWORK} for the ${NETWORK} network only)`,
        `SASL password:  ${password}`,
        `No SASL? Use ${c.username} as the username and the app password as the server password.`,
      ].join("\n"),
    },
  ];
}

/**
 * "Connect your IRC client" on a bouncer's card: the connection details, an app password for
 * this device (created here, shown once), and setups for popular clients. IRC clients never
 * get the irc.now (Keycloak) sign-in password: soju asks the portal about app passwords.
 */
export function ConnectClient({
  bouncer,
  bouncers,
}: {
  bouncer: { name: string; connection: Connection };
  bouncers: string[];
}) {
  const c = bouncer.connection;
  const [token, setToken] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const password = token ?? PLACEHOLDER;
  const id = `connect-${bouncer.name}`;
  const rows: Array<[string, React.ReactNode]> = [
    ["Server", c.host],
    ["Port", String(c.port)],
    ["TLS", c.tls ? "Yes" : "No"],
    [
      "Username",
      <>
        {c.username} <span className="font-sans text-slate-400">(all networks) or</span>{" "}
        {c.username}/{NETWORK} <span className="font-sans text-slate-400">({NETWORK} only)</span>
      </>,
    ],
    [
      "Password",
      <span key="p" className="font-sans">
        an app password (create one below)
      </span>,
    ],
  ];
  return (
    <section aria-labelledby={`${id}-heading`} className="mt-6" data-testid="connect-client">
      <h3 id={`${id}-heading`} className="text-sm font-semibold text-slate-300">
        Connect your IRC client
      </h3>
      <dl className="mt-2 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-6 gap-y-1 text-sm">
        {rows.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-400">{k}</dt>
            <dd className="font-mono break-all text-slate-200">{v}</dd>
          </div>
        ))}
      </dl>

      <div className="mt-4">
        {open ? (
          <NewAppPassword
            idPrefix={id}
            bouncers={bouncers}
            fixedBouncer={bouncer.name}
            onCreated={(made) => setToken(made.token)}
            autoFocus
          />
        ) : (
          <button
            type="button"
            onClick={() => setOpen(true)}
            className={`rounded-md border border-emerald-700 px-3 py-1.5 text-sm text-emerald-200 hover:bg-emerald-950 ${focusRing}`}
          >
            Create an app password for this device
          </button>
        )}
      </div>

      <h4 className="mt-5 text-sm font-semibold text-slate-300">Setups for popular clients</h4>
      <p className="mt-1 text-sm text-slate-400">
        {token
          ? "These include the app password you just created."
          : `Replace ${PLACEHOLDER} with an app password.`}
      </p>
      <div className="mt-2 space-y-2">
        {snippets(c, password).map((s) => (
          <details key={s.client} className="rounded-md border border-slate-800 bg-slate-950/50">
            <summary
              className={`cursor-pointer rounded-md px-3 py-2 text-sm text-slate-200 ${focusRing}`}
            >
              {s.client}
            </summary>
            <div className="border-t border-slate-800 p-3">
              <pre className="overflow-x-auto font-mono text-xs whitespace-pre text-slate-200">
                {s.text}
              </pre>
              <div className="mt-2">
                <CopyButton text={s.text} what={`the ${s.client} setup`} />
              </div>
            </div>
          </details>
        ))}
      </div>
      <p className="mt-3 text-sm">
        <Link
          href="/app-passwords"
          className={`rounded text-emerald-300 underline-offset-4 hover:text-emerald-200 hover:underline ${focusRing}`}
        >
          Your app passwords <span aria-hidden="true">→</span>
        </Link>{" "}
        <Link
          href="/help#connect"
          className={`ml-4 rounded text-emerald-300 underline-offset-4 hover:text-emerald-200 hover:underline ${focusRing}`}
        >
          How to connect a client <span aria-hidden="true">→</span>
        </Link>
      </p>
    </section>
  );
}
