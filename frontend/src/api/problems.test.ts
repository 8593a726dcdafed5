import { describe, expect, it } from "vitest";
import { asProblem, run } from "./problems";

describe("problem documents", () => {
  it("turns a network failure into a problem", async () => {
    const result = await run(Promise.reject(new TypeError("Failed to fetch")));
    expect(result).toMatchObject({ ok: false, problem: { code: "network_error" } });
  });

  it("reads Retry-After when the body lacks retry_after, and fixes the deadline on arrival", async () => {
    const response = new Response(null, { status: 429, headers: { "Retry-After": "45" } });
    const error = { type: "t", title: "t", status: 429, detail: "t", code: "too_many_attempts" };
    const result = await run(Promise.resolve({ error, response }), () => 1_000_000);
    expect(result).toMatchObject({ ok: false, problem: { retry_after: 45, retryAt: 1_045_000 } });
  });

  it("calls an answer without a problem document unexpected", () => {
    expect(asProblem("<html>", new Response("<html>", { status: 502 }))).toMatchObject({
      code: "unexpected_response",
      status: 502,
    });
  });
});
