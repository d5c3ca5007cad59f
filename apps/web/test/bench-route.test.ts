import { afterEach, describe, expect, it, vi } from "vitest";
import { GET } from "../app/api/bench/static/route";

// The benchmark's baseline route must not exist in production by accident.
describe("/api/bench/static", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("answers 404 unless BENCH_ROUTES=1", () => {
    vi.stubEnv("BENCH_ROUTES", "");
    expect(GET().status).toBe(404);
    vi.stubEnv("BENCH_ROUTES", "true");
    expect(GET().status).toBe(404);
  });

  it("serves static JSON with BENCH_ROUTES=1", async () => {
    vi.stubEnv("BENCH_ROUTES", "1");
    const res = GET();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, service: "irc-now-web", bench: "static" });
  });
});
