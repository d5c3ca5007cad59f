/** exec adapter only: the argv it runs, sojuctl's exit/stderr conventions, missing pods. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SojuCommandFailed, SojuUnavailable, type SojuAdmin } from "../src/index";
import { CONFIG_PATH, NS, rejection, World, type Bouncer } from "./helpers";

const world = new World();
const logs: string[] = [];
let admin: SojuAdmin;
let bouncer: Bouncer;

beforeAll(async () => {
  await world.start();
  bouncer = await world.bouncer("exec-argv");
  admin = world.admin("exec", logs);
});
afterAll(() => world.stop());

describe("exec adapter", () => {
  it("runs `sojuctl -config <SOJU_CONFIG_PATH> <words…>` with the words unquoted (sojuctl quotes them)", async () => {
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
      exec: (request) => {
        const words = request.command.slice(3).join(" ");
        if (words.startsWith("user create"))
          request.stderr.write(
            '2026/11/22 23:12:32 could not create user: user "bob" already exists\n',
          );
        else request.stderr.write('2026/11/22 23:12:33 unknown username "nosuchuser"\n');
        return 1;
      },
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
});
