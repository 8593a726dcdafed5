import type { AppProblemCode, Problem } from "./types";

export type Result<T> = { ok: true; data: T } | { ok: false; problem: Problem };

/** What an openapi-fetch call resolves to. */
export type FetchOutcome<T> = { data?: T; error?: unknown; response: Response };

/** Runs an openapi-fetch call and turns every failure into a problem document. */
export async function run<T>(call: Promise<FetchOutcome<T>>, now: () => number = Date.now): Promise<Result<T>> {
  let outcome: FetchOutcome<T>;
  try {
    outcome = await call;
  } catch {
    return { ok: false, problem: localProblem("network_error", 0) };
  }
  const { data, error, response } = outcome;
  if (response.ok) return { ok: true, data: data as T };
  return { ok: false, problem: asProblem(error, response, now()) };
}

/** A mutation's `mutateAsync` as a `Result`, for steps that go on differently after a failure. */
export async function settle<T>(outcome: Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, data: await outcome };
  } catch (error) {
    return { ok: false, problem: toProblem(error) };
  }
}

/** The problem document of a failed response (or a local one), its retry deadline fixed at `receivedAt`. */
export function asProblem(error: unknown, response: Response | null, receivedAt: number = Date.now()): Problem {
  const problem: Problem = isProblem(error)
    ? { ...error }
    : localProblem(response ? "unexpected_response" : "network_error", response?.status ?? 0);
  if (problem.retry_after == null && response) {
    const header = Number(response.headers.get("Retry-After"));
    if (Number.isFinite(header) && header > 0) problem.retry_after = header;
  }
  if (problem.retry_after != null) problem.retryAt = receivedAt + problem.retry_after * 1000;
  return problem;
}

function isProblem(error: unknown): error is Problem {
  return typeof error === "object" && error !== null && "code" in error && "status" in error;
}

/** Any error a query threw (a problem body from openapi-react-query, or a fetch TypeError) as a problem. */
export function toProblem(error: unknown): Problem {
  return isProblem(error) ? error : localProblem("network_error", 0);
}

export function localProblem(code: AppProblemCode, status: number): Problem {
  return { type: "about:blank", title: code, status, detail: code, code };
}

/** Answers that say the server or the way to it is down, not that the customer is signed out. */
export function isOutage(problem: Problem): boolean {
  return problem.code === "network_error" || problem.status >= 500;
}
