import { describe, expect, it } from "vitest";
import { safeRedirectPath, safeRedirectUrl } from "~/server/auth/redirect";

const SITE = "https://portal.example";

// Values as the page receives them (Next has already percent-decoded the query string once)
// and as they arrive still encoded (a double-encoded link).
const offSite = [
  "/\\evil.example/phish",
  "/%5Cevil.example/phish",
  "\\\\evil.example",
  "/\\/evil.example",
  "/\t/evil.example",
  "/%09/evil.example",
  "/\n/evil.example",
  "\t//evil.example",
  "//evil.example",
  "///evil.example",
  "/%2F%2Fevil.example",
  "//%2F%2Fevil.example",
  "https://evil.example",
  "https://evil.example/dashboard",
  "http://portal.example/dashboard",
  "https://portal.example.evil.example/",
  "https://portal.example@evil.example/",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  " javascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
];

describe("safeRedirectPath", () => {
  it.each(offSite)("never leaves the site: %j", (raw) => {
    const path = safeRedirectPath(raw, SITE);
    // Whatever comes back, a browser resolving it as a Location lands on our own origin.
    expect(new URL(path, SITE).origin).toBe(SITE);
    expect(path).toMatch(/^\/(?![/\\])/);
    expect(path).not.toMatch(/[\t\n\r]/);
  });

  it("sends another host, scheme or javascript: to the fallback", () => {
    for (const raw of [
      "/\\evil.example/phish",
      "/\t/evil.example",
      "//evil.example",
      "https://evil.example",
      "javascript:alert(1)",
      "/%2F%2Fevil.example".replaceAll("%2F", "/"),
    ]) {
      expect(safeRedirectPath(raw, SITE)).toBe("/dashboard");
    }
  });

  it("keeps a still-encoded backslash or slash as a harmless path on our site", () => {
    expect(safeRedirectPath("/%5Cevil.example/phish", SITE)).toBe("/%5Cevil.example/phish");
    expect(safeRedirectPath("/%2F%2Fevil.example", SITE)).toBe("/%2F%2Fevil.example");
  });

  it("collapses leading slashes the parser leaves in a path (/.//evil.example)", () => {
    expect(safeRedirectPath("/.//evil.example", SITE)).toBe("/evil.example");
  });

  it("keeps our own paths with their query and fragment", () => {
    expect(safeRedirectPath("/dashboard?x=1", SITE)).toBe("/dashboard?x=1");
    expect(safeRedirectPath("/admin/bouncers/b1?sort=name#top", SITE)).toBe(
      "/admin/bouncers/b1?sort=name#top",
    );
    expect(safeRedirectPath("https://portal.example/admin?x=1", SITE)).toBe("/admin?x=1");
    expect(safeRedirectPath(undefined, SITE)).toBe("/dashboard");
    expect(safeRedirectPath("", SITE, "/")).toBe("/");
  });

  it("gives next-auth an absolute URL on the site", () => {
    expect(safeRedirectUrl("/dashboard?x=1", SITE)).toBe("https://portal.example/dashboard?x=1");
    expect(safeRedirectUrl("//evil.example", SITE, "/")).toBe("https://portal.example/");
  });
});
