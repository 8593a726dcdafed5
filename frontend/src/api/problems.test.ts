import { describe, expect, it } from "vitest";
import { problemMessage, run } from "./problems";

const problem = (code: string, extra = {}) => ({ type: "t", title: code, status: 400, detail: code, code, ...extra });

describe("problem messages", () => {
  it("says when a throttled customer may try again", () => {
    const now = new Date("2026-12-02T10:00:00");
    expect(problemMessage(problem("too_many_attempts", { retry_after: 30 }), now)).toBe(
      "Too many attempts. Please wait 30 seconds and try again after 10:00.",
    );
    expect(problemMessage(problem("too_many_attempts", { retry_after: 900 }), now)).toBe(
      "Too many attempts. Please wait 15 minutes and try again after 10:15.",
    );
  });

  it("has friendly words for every code and a fallback", () => {
    expect(problemMessage(problem("invalid_code_format"))).toMatch(/six digits/);
    expect(problemMessage(problem("something_new"))).toBe("Something went wrong. Please try again later.");
  });

  it("turns a network failure into a problem", async () => {
    const result = await run(Promise.reject(new TypeError("Failed to fetch")));
    expect(result).toMatchObject({ ok: false, problem: { code: "network_error" } });
  });

  it("reads Retry-After when the body lacks retry_after", async () => {
    const response = new Response(null, { status: 429, headers: { "Retry-After": "45" } });
    const result = await run(Promise.resolve({ error: problem("too_many_attempts"), response }));
    expect(result).toMatchObject({ ok: false, problem: { retry_after: 45 } });
  });
});
