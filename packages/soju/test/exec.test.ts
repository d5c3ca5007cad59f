/**
 * exec adapter only: the words on stdin (never in the request URL), the argv sojuctl gets,
 * sojuctl's exit/stderr conventions, missing pods, and the deadlines on opening and running an
 * exec session.
 */
import net from "node:net";
import { PassThrough, Writable } from "node:stream";
import { Exec, KubeConfig, type V1Status } from "@kubernetes/client-node";
import { podImageExecHandler, type ObservedRequest } from "@irc-now/standins/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SOJUCTL_SEQUENCE_SCRIPT,
  SOJUCTL_STDIN_SCRIPT,
  SojuCommandFailed,
  SojuUnavailable,
  interpretSequence,
  type SojuAdmin,
} from "../src/index";
import { CONFIG_PATH, NS, rejection, waitFor, World, type Bouncer } from "./helpers";

/** A Writable that keeps what it got. */
class Collect extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

const world = new World();
const logs: string[] = [];
let admin: SojuAdmin;
let bouncer: Bouncer;

/** The sojuctl argv of applyUpstreamNetwork's three commands as `user` (irc.now, disabled first). */
function upstreamArgv(user: string, password: string): string[][] {
  const run = (...w: string[]) => ["sojuctl", "-config", CONFIG_PATH, "user", "run", user, ...w];
  return [
    run(
      "network",
      "create",
      "-addr",
      world.upstreamAddr,
      "-name",
      "irc.now",
      "-nick",
      user,
      "-username",
      user,
      "-enabled",
      "false",
    ),
    run("sasl", "set-plain", "-network", "irc.now", "--", user, password),
    run("network", "update", "irc.now", "-enabled", "true"),
  ];
}

beforeAll(async () => {
  await world.start();
  bouncer = await world.bouncer("exec-argv");
  admin = world.admin("exec", logs);
});
afterAll(() => world.stop());

describe("exec adapter", () => {
  it("sojuctl gets `-config <SOJU_CONFIG_PATH> <words…>` with the words unquoted (sojuctl quotes them)", async () => {
    const before = bouncer.execArgv.length;
    await admin.createUser(bouncer.name, { username: "argv", password: `p w "q" \\ 'x'` });
    expect(bouncer.execArgv.slice(before)).toEqual([
      [
        "sojuctl",
        "-config",
        CONFIG_PATH,
        "user",
        "create",
        "-username",
        "argv",
        "-password",
        `p w "q" \\ 'x'`,
      ],
    ]);
    expect(
      await admin.createOrUpdateNetwork(bouncer.name, "argv", {
        name: "a net",
        addr: world.upstreamAddr,
        nick: "argv",
        username: "argv",
        enabled: false,
      }),
    ).toBe("created");
    expect(bouncer.execArgv.at(-1)).toEqual([
      "sojuctl",
      "-config",
      CONFIG_PATH,
      "user",
      "run",
      "argv",
      "network",
      "create",
      "-addr",
      world.upstreamAddr,
      "-name",
      "a net",
      "-nick",
      "argv",
      "-username",
      "argv",
      "-enabled",
      "false",
    ]);
  });

  it("reads sojuctl v0.7.0's stderr with a Go log timestamp (exit 1) as the FAIL text", async () => {
    const name = "old-sojuctl";
    world.kube.createPod({
      namespace: NS,
      name: `${name}-0`,
      labels: { "irc.now/bouncer": name },
      containers: ["soju"],
      exec: podImageExecHandler({
        commands: {
          // An old sojuctl: `sojuctl -config <path> <words…>`, errors with a log timestamp.
          sojuctl: (argv, io) => {
            const words = argv.slice(3).join(" ");
            if (words.startsWith("user create"))
              io.stderr.write(
                '2026/11/22 23:12:32 could not create user: user "bob" already exists\n',
              );
            else io.stderr.write('2026/11/22 23:12:33 unknown username "nosuchuser"\n');
            return 1;
          },
        },
      }),
    });
    expect(await admin.createUser(name, { username: "bob", password: "Old-sojuctl-pw" })).toBe(
      "exists",
    );
    const error = await rejection(admin.enableNetwork(name, "nosuchuser", "irc.now"));
    expect(error).toBeInstanceOf(SojuCommandFailed);
    expect((error as SojuCommandFailed).reply).toBe('unknown username "nosuchuser"');
  });

  it("no running pod → SojuUnavailable naming the selector", async () => {
    const error = await rejection(admin.networkStatus("no-such-bouncer", "x"));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toContain("irc.now/bouncer=no-such-bouncer");

    world.kube.createPod({
      namespace: NS,
      name: "pending-0",
      labels: { "irc.now/bouncer": "pending" },
      containers: ["soju"],
      phase: "Pending",
    });
    expect(await rejection(admin.networkStatus("pending", "x"))).toBeInstanceOf(SojuUnavailable);
  });

  it("a container without sojuctl, or sojuctl unable to reach soju → SojuUnavailable, without the password", async () => {
    world.kube.createPod({
      namespace: NS,
      name: "nosojuctl-0",
      labels: { "irc.now/bouncer": "nosojuctl" },
      containers: ["soju"],
    });
    const missing = await rejection(
      admin.setSaslPlain("nosojuctl", "u", "n", "u", "Missing-sojuctl-pw"),
    );
    expect(missing).toBeInstanceOf(SojuUnavailable);
    expect(missing.message).not.toContain("Missing-sojuctl-pw");

    const down = await world.bouncer("soju-down");
    await down.soju.stop();
    const unreachable = await rejection(
      admin.setSaslPlain("soju-down", "u", "n", "u", "Soju-down-pw"),
    );
    expect(unreachable).toBeInstanceOf(SojuUnavailable);
    expect(unreachable.message).toMatch(/sojuctl exited with code 1/);
    expect(unreachable.message).not.toContain("Soju-down-pw");
    expect(logs.join("\n")).not.toMatch(/Missing-sojuctl-pw|Soju-down-pw|Old-sojuctl-pw/);
  });

  it("keeps the SASL password out of every exec request URL; soju still gets it and logs in upstream", async () => {
    const requests: ObservedRequest[] = [];
    const unsubscribe = world.kube.onRequest((r) => requests.push(r));
    const user = "stdinuser";
    // Spaces, quotes, a backslash, a leading dash, a `$`, glob and shell characters: a shell
    // that word-split or expanded anything would change it.
    const password = `-Stdin pw "q" \\ 'x' $HOME * ; é`;
    const ergoPassword = `Stdin-ergo-"pw"\\1'`;
    await world.ergo.registerAccount(user, ergoPassword);
    const b = bouncer.name;
    try {
      await admin.createUser(b, { username: user, password });
      await admin.createOrUpdateNetwork(b, user, {
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: user,
        username: user,
        enabled: false,
      });
      await admin.setSaslPlain(b, user, "irc.now", user, ergoPassword);
      await admin.enableNetwork(b, user, "irc.now");
      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount(user)) === user ? user : undefined),
          `ergo WHOIS ${user} logged in`,
        ),
      ).toBe(user);
      const status = await waitFor(async () => {
        const s = await admin.saslStatus(b, user, "irc.now");
        return s.state.kind === "authenticated" ? s : undefined;
      }, "sasl status authenticated");
      expect(status.state).toEqual({ kind: "authenticated", account: user });
    } finally {
      unsubscribe();
    }
    // sojuctl got the password as one argv word, unchanged.
    expect(bouncer.execArgv).toContainEqual([
      "sojuctl",
      "-config",
      CONFIG_PATH,
      "user",
      "run",
      user,
      "sasl",
      "set-plain",
      "-network",
      "irc.now",
      "--",
      user,
      ergoPassword,
    ]);
    const execs = requests.filter((r) => r.url.includes("/exec?"));
    expect(execs.length).toBeGreaterThanOrEqual(5);
    for (const { url } of requests) {
      const decoded = new URLSearchParams(url.split("?")[1] ?? "");
      const texts = [url, decodeURIComponent(url), ...decoded.values()];
      for (const secret of [password, ergoPassword])
        for (const text of texts) expect(text).not.toContain(secret);
    }
    // What the URL does carry: the fixed script, the config path and the word count.
    for (const { url } of execs) {
      const commands = new URLSearchParams(url.split("?")[1] ?? "").getAll("command");
      expect(commands.slice(0, 5)).toEqual([
        "sh",
        "-c",
        SOJUCTL_STDIN_SCRIPT,
        "sojuctl",
        CONFIG_PATH,
      ]);
      expect(commands[5]).toMatch(/^\d+$/);
      expect(commands).toHaveLength(6);
    }
    expect(logs.join("\n")).not.toContain(ergoPassword);
    expect(logs.join("\n")).not.toContain(password);
  });

  it("applyUpstreamNetwork is ONE exec session running the three sojuctl commands in order; no secret in its URL", async () => {
    const user = "oneexec";
    const ergoPassword = `One-exec-"pw"\\1'$HOME*`;
    await world.ergo.registerAccount(user, ergoPassword);
    const b = bouncer.name;
    await admin.createUser(b, { username: user, disablePassword: true });
    const before = bouncer.execArgv.length;
    const requests: ObservedRequest[] = [];
    const unsubscribe = world.kube.onRequest((r) => requests.push(r));
    try {
      expect(
        await admin.applyUpstreamNetwork(b, user, world.ircNow(user), {
          username: user,
          password: ergoPassword,
        }),
      ).toBe("created");
    } finally {
      unsubscribe();
    }
    const execs = requests.filter((r) => r.url.includes("/exec?"));
    expect(execs).toHaveLength(1);
    const argv = new URLSearchParams(execs[0]!.url.split("?")[1] ?? "").getAll("command");
    expect(argv.slice(0, 5)).toEqual(["sh", "-c", SOJUCTL_SEQUENCE_SCRIPT, "sojuctl", CONFIG_PATH]);
    expect(argv[5]).toMatch(/^[0-9a-f]{24}$/);
    expect(argv).toHaveLength(6);
    for (const text of [execs[0]!.url, decodeURIComponent(execs[0]!.url)])
      expect(text).not.toContain("One-exec-");
    expect(bouncer.execArgv.slice(before)).toEqual(upstreamArgv(user, ergoPassword));
    expect(
      await waitFor(
        async () => ((await world.ergo.whoisAccount(user)) === user ? user : undefined),
        `ergo WHOIS ${user} logged in`,
      ),
    ).toBe(user);
    expect(logs.join("\n")).not.toContain(ergoPassword);
  });

  describe("applyUpstreamNetwork with enableAfter (the enable held back on the same session)", () => {
    const written = (user: string) => upstreamArgv(user, `${user}-pw`).slice(0, 2);
    const enable = (user: string) => upstreamArgv(user, `${user}-pw`)[2]!;

    async function start(user: string, enableAfter: Promise<unknown>) {
      await world.ergo.registerAccount(user, `${user}-pw`);
      await admin.createUser(bouncer.name, { username: user, disablePassword: true });
      // Counted from a fresh session: none kept open by an earlier test's sequence.
      await admin.release(bouncer.name);
      const before = bouncer.execArgv.length;
      const requests: ObservedRequest[] = [];
      const unsubscribe = world.kube.onRequest((r) => requests.push(r));
      const applied = admin.applyUpstreamNetwork(
        bouncer.name,
        user,
        world.ircNow(user),
        { username: user, password: `${user}-pw` },
        { enableAfter },
      );
      applied.catch(() => undefined);
      await waitFor(
        () => (bouncer.execArgv.length - before >= 2 ? true : undefined),
        "create and set-plain to run",
      );
      // Held: nothing more runs while enableAfter is pending.
      await new Promise((r) => setTimeout(r, 150));
      expect(bouncer.execArgv.slice(before)).toEqual(written(user));
      const state = async () =>
        (await admin.networkStatus(bouncer.name, user)).find((n) => n.name === "irc.now")?.state;
      expect(await state()).toBe("disabled");
      return {
        applied,
        state,
        // What ran besides the `network status` reads of `state()`.
        ran: () =>
          bouncer.execArgv
            .slice(before)
            .filter((argv) => !argv.join(" ").endsWith("network status")),
        /** Exec sessions of the sequence script. */
        execs: () => {
          unsubscribe();
          return requests.filter(
            (r) =>
              r.url.includes("/exec?") &&
              new URLSearchParams(r.url.split("?")[1] ?? "")
                .getAll("command")
                .includes(SOJUCTL_SEQUENCE_SCRIPT),
          ).length;
        },
      };
    }

    it("create and set-plain run at once; the enable once it resolves, in the same exec session", async () => {
      let release!: () => void;
      const t = await start("heldok", new Promise<void>((r) => (release = r)));
      release();
      expect(await t.applied).toBe("created");
      expect(t.ran()).toEqual([...written("heldok"), enable("heldok")]);
      expect(t.execs()).toBe(1);
      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount("heldok")) === "heldok" ? true : undefined),
          "soju logged in to ergo",
        ),
      ).toBe(true);
    });

    it("when it rejects the enable never runs: the network stays disabled and the call rejects with the reason", async () => {
      let refuse!: (e: Error) => void;
      const t = await start("heldno", new Promise<void>((_, r) => (refuse = r)));
      refuse(new Error("ergo did not accept the password"));
      await expect(t.applied).rejects.toThrow("ergo did not accept the password");
      await new Promise((r) => setTimeout(r, 150));
      expect(t.ran()).toEqual(written("heldno"));
      expect(t.execs()).toBe(1);
      expect(await t.state()).toBe("disabled");
      expect(logs.join("\n")).not.toContain("heldno-pw");
    });
  });

  it("a sequence held past its deadline fails as SojuUnavailable and never runs the commands after the held one", async () => {
    const seen: string[][] = [];
    world.kube.createPod({
      namespace: NS,
      name: "seq-hung-0",
      labels: { "irc.now/bouncer": "seq-hung" },
      containers: ["soju"],
      exec: podImageExecHandler({
        commands: {
          sojuctl: (argv, io) => {
            seen.push(argv.slice(6, 8));
            if (!argv.includes("set-plain")) return 0;
            // Hangs until the session goes away (soju stuck).
            return new Promise<number>((resolve) =>
              io.signal.addEventListener("abort", () => resolve(1), { once: true }),
            );
          },
        },
      }),
    });
    const hung = world.admin("exec", logs, { commandTimeoutMs: 1_500 });
    const error = await rejection(
      hung.applyUpstreamNetwork(
        "seq-hung",
        "u",
        { name: "irc.now", addr: world.upstreamAddr, nick: "u", username: "u" },
        { username: "u", password: "Seq-hung-pw" },
      ),
    );
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toMatch(/did not finish within 1500 ms/);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([
      ["network", "create"],
      ["sasl", "set-plain"],
    ]);
    expect(logs.join("\n")).not.toContain("Seq-hung-pw");
  });

  it("interpretSequence: per-command results up to the first failure; a session cut short names the command it never heard from", () => {
    const k = "0123456789abcdef01234567";
    expect(
      interpretSequence(
        {
          stdout: `created network "n"\n${k} 0 0\n${k} 1 1\n`,
          stderr: `${k} 0 0\nunknown network "x"\n${k} 1 1\n`,
          exitCode: 0,
        },
        k,
        3,
      ),
    ).toEqual({
      outputs: [['created network "n"']],
      failure: { index: 1, error: new SojuCommandFailed('unknown network "x"') },
    });
    const cut = interpretSequence(
      { stdout: `ok\n${k} 0 0\n`, stderr: `${k} 0 0\n`, exitCode: 137 },
      k,
      3,
    );
    expect(cut.outputs).toEqual([["ok"]]);
    expect(cut.failure?.index).toBe(1);
    expect(cut.failure?.error).toBeInstanceOf(SojuUnavailable);
    expect(cut.failure?.error.message).toMatch(/exit 137\) before command 2 of 3/);
    // A marker soju could print without knowing this session's one is just output.
    expect(
      interpretSequence(
        { stdout: `fake 0 0\n${k} 0 0\n`, stderr: `${k} 0 0\n`, exitCode: 0 },
        k,
        1,
      ),
    ).toEqual({ outputs: [["fake 0 0"]] });
  });

  it("the script: a stdin that ends early (the session dropped) never runs a truncated command", async () => {
    const seen: string[][] = [];
    world.kube.createPod({
      namespace: NS,
      name: "short-stdin-0",
      labels: { "irc.now/bouncer": "short-stdin" },
      containers: ["soju"],
      exec: podImageExecHandler({
        commands: {
          sojuctl: (argv) => {
            seen.push(argv);
            return 0;
          },
        },
      }),
    });
    // The adapter never closes stdin; a real kubelet closes it when the client goes away. Here
    // the client closes it (v5 CLOSE frame) after two of the three promised words.
    const run = async (count: string, input: string) => {
      const stdin = new PassThrough();
      stdin.end(input);
      const out = new Collect();
      const err = new Collect();
      const status = await new Promise<V1Status>((resolve, reject) => {
        new Exec(world.kubeConfig)
          .exec(
            NS,
            "short-stdin-0",
            "soju",
            ["sh", "-c", SOJUCTL_STDIN_SCRIPT, "sojuctl", CONFIG_PATH, count],
            out,
            err,
            stdin,
            false,
            resolve,
          )
          .catch(reject);
      });
      return { status, stderr: err.text() };
    };
    const short = await run("3", "sasl\nset-plain\n");
    expect(short.status.details?.causes).toEqual([{ reason: "ExitCode", message: "125" }]);
    expect(short.stderr).toBe("irc-now exec: stdin ended after 2 of 3 words\n");
    const badCount = await run("3; rm -rf /", "x\n");
    expect(badCount.status.details?.causes).toEqual([{ reason: "ExitCode", message: "125" }]);
    expect(badCount.stderr).toBe("irc-now exec: bad word count\n");
    expect(seen).toEqual([]);
    // A last line without its newline is not a word either.
    expect((await run("2", "a\nb")).stderr).toBe("irc-now exec: stdin ended after 1 of 2 words\n");
    // Exactly the promised words, each kept byte for byte (leading/trailing blanks, backslashes).
    const full = await run("4", "  lead\ntrail  \nback\\slash\n\n");
    expect(full.status.status).toBe("Success");
    expect(seen).toEqual([
      ["sojuctl", "-config", CONFIG_PATH, "  lead", "trail  ", "back\\slash", ""],
    ]);
  });
});

describe("exec deadlines", () => {
  it("an apiserver that holds the exec upgrade: fails within the open timeout", async () => {
    const name = "hung-open";
    world.kube.createPod({
      namespace: NS,
      name: `${name}-0`,
      labels: { "irc.now/bouncer": name },
      containers: ["soju"],
      exec: podImageExecHandler({ commands: { sojuctl: () => 0 } }),
    });
    const logs: string[] = [];
    const hung = world.admin("exec", logs, { execOpenTimeoutMs: 500, commandTimeoutMs: 5000 });
    // Only the upgrade hangs: the pod lookup goes through.
    const hang = world.kube.faults.hangRequests(undefined, { match: (r) => r.upgrade });
    try {
      const started = Date.now();
      const error = await rejection(hung.setSaslPlain(name, "u", "n", "u", "Hung-open-pw"));
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(SojuUnavailable);
      expect(error.message).toBe(
        `the exec request to pod ${NS}/${name}-0 was not answered within 500 ms`,
      );
      expect(error.message).not.toContain("Hung-open-pw");
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(3000);
      expect(world.kube.faults.heldRequests).toBe(1);
    } finally {
      hang.release();
    }
    // (That the client also closes the abandoned connection is pinned by the next test: the
    // stand-in does not read a held upgrade's socket, so it cannot tell.)
  });

  it("a server that accepts the TCP connection and never sends a byte: fails within the open timeout, socket closed", async () => {
    const sockets: net.Socket[] = [];
    let closed = 0;
    const blackHole = net.createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // reads the upgrade request (and would see its end), answers nothing
      socket.on("close", () => (closed += 1));
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    world.onCleanup(() => new Promise((r) => blackHole.close(r)));
    const port = (blackHole.address() as net.AddressInfo).port;
    // Pods are found through the stand-in; the exec goes to the black hole.
    const doc = world.kube.kubeConfig();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      ...doc,
      clusters: [{ name: "black-hole", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      contexts: [{ name: "black-hole", cluster: "black-hole", user: "black-hole" }],
      users: [{ name: "black-hole", token: "t" }],
      currentContext: "black-hole",
    });
    const logs: string[] = [];
    const admin = world.admin("exec", logs, {
      kubeConfig: kc,
      execOpenTimeoutMs: 400,
      commandTimeoutMs: 5000,
    });
    const error = await rejection(admin.setSaslPlain(bouncer.name, "u", "n", "u", "Black-pw"));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toMatch(/was not answered within 400 ms$/);
    expect(sockets).toHaveLength(1);
    await waitFor(() => (closed === 1 ? true : undefined), "the client to close its socket", 2000);
  });

  it("a command that never ends: fails at the command timeout and the session is torn down", async () => {
    const name = "hung-run";
    let aborted = 0;
    world.kube.createPod({
      namespace: NS,
      name: `${name}-0`,
      labels: { "irc.now/bouncer": name },
      containers: ["soju"],
      exec: podImageExecHandler({
        commands: {
          sojuctl: (_argv, io) =>
            new Promise<number>((resolve) =>
              io.signal.addEventListener("abort", () => {
                aborted += 1;
                resolve(137);
              }),
            ),
        },
      }),
    });
    const logs: string[] = [];
    const admin = world.admin("exec", logs, { commandTimeoutMs: 700 });
    const error = await rejection(admin.setSaslPlain(name, "u", "n", "u", "Hung-run-pw"));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toBe(`sojuctl in pod ${name}-0 did not finish within 700 ms`);
    await waitFor(() => (aborted === 1 ? true : undefined), "the pod's command to be aborted");
    await waitFor(
      () => (world.kube.activeExecSessions === 0 ? true : undefined),
      "no exec session left",
    );
  });
});
