import { describe, expect, it } from "vitest";
import { createErgoAdmin, parseIrcUrl } from "../src/index";
import { Scrubber } from "../src/scrub";
import { scrubbingLogger } from "../src/logger";
import { captureLogger } from "./helpers";

describe("createErgoAdmin", () => {
  it("uses the HTTP API when ERGO_API_URL is set, the oper session otherwise", async () => {
    const http = createErgoAdmin({
      ERGO_API_URL: "http://127.0.0.1:8089",
      ERGO_API_TOKEN: "tok-123456",
      ERGO_IRC_URL: "irc://127.0.0.1:6667",
    });
    expect(http.kind).toBe("http");
    await http.close();
    const irc = createErgoAdmin({
      ERGO_IRC_URL: "irc://127.0.0.1:6667",
      ERGO_OPER_NAME: "admin",
      ERGO_OPER_PASSWORD: "operpass-1",
    });
    expect(irc.kind).toBe("irc");
    await irc.close();
  });

  it("names missing variables, never values", () => {
    expect(() => createErgoAdmin({ ERGO_API_URL: "http://127.0.0.1:8089" })).toThrow(
      /ERGO_API_TOKEN/,
    );
    let message = "";
    try {
      createErgoAdmin({
        ERGO_IRC_URL: "irc://127.0.0.1:6667",
        ERGO_OPER_PASSWORD: "hunter2-secret",
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("ERGO_OPER_NAME");
    expect(message).not.toContain("hunter2-secret");
  });

  it("parses irc:// and ircs:// URLs with default ports", () => {
    expect(parseIrcUrl("irc://ergo.example")).toMatchObject({
      host: "ergo.example",
      port: 6667,
      tls: false,
    });
    expect(parseIrcUrl("ircs://ergo.example")).toMatchObject({ port: 6697, tls: true });
    expect(parseIrcUrl("irc://[::1]:7000")).toMatchObject({ host: "::1", port: 7000 });
    expect(() => parseIrcUrl("http://ergo.example")).toThrow(TypeError);
  });
});

describe("secret scrubbing", () => {
  it("removes held and permanent secrets, their encodings, and secret-carrying command shapes", () => {
    const scrubber = new Scrubber(["oper-secret-1"]);
    const release = scrubber.hold("user-pass-2");
    const b64 = Buffer.from("\0alice\0user-pass-2").toString("base64");
    const text = scrubber.scrub(
      `oper-secret-1 user-pass-2 ${encodeURIComponent("user-pass-2")} OPER admin :whatever NS PASSWD bob :other AUTHENTICATE ${b64} Bearer abc.def`,
    );
    for (const leaked of ["oper-secret-1", "user-pass-2", "whatever", "other", b64, "abc.def"]) {
      expect(text).not.toContain(leaked);
    }
    release();
    expect(scrubber.scrub("user-pass-2")).toBe("user-pass-2");
    expect(scrubber.scrub("ergo oper session ready")).toBe("ergo oper session ready");
  });

  it("scrubs every string of a logged object and the message", () => {
    const capture = captureLogger();
    const scrubber = new Scrubber(["tok-SECRET"]);
    const log = scrubbingLogger(capture.logger, scrubber);
    log.warn(
      { nested: { list: ["x tok-SECRET y"] }, err: new Error("failed with tok-SECRET") },
      "msg tok-SECRET",
    );
    expect(capture.text()).not.toContain("tok-SECRET");
    expect(capture.records).toHaveLength(1);
  });
});
