import type { Problem } from "./client";

export type Result<T> = { ok: true; data: T } | { ok: false; problem: Problem };

type FetchOutcome<T> = { data?: T; error?: unknown; response: Response };

/** Runs an openapi-fetch call and turns every failure into a problem document. */
export async function run<T>(call: Promise<FetchOutcome<T>>): Promise<Result<T>> {
  let outcome: FetchOutcome<T>;
  try {
    outcome = await call;
  } catch {
    return { ok: false, problem: localProblem("network_error", 0) };
  }
  const { data, error, response } = outcome;
  if (response.ok) return { ok: true, data: data as T };
  return { ok: false, problem: asProblem(error, response) };
}

function asProblem(error: unknown, response: Response): Problem {
  const problem: Problem =
    typeof error === "object" && error !== null && "code" in error
      ? (error as Problem)
      : localProblem("unexpected_response", response.status);
  if (problem.retry_after == null) {
    const header = Number(response.headers.get("Retry-After"));
    if (Number.isFinite(header) && header > 0) return { ...problem, retry_after: header };
  }
  return problem;
}

function localProblem(code: string, status: number): Problem {
  return { type: "about:blank", title: code, status, detail: code, code };
}

const MESSAGES: Record<string, string> = {
  invalid_credentials: "The username or password is not right. Please check both and try again.",
  invalid_token: "Your session has ended. Please log in again.",
  invalid_refresh_token: "Your session has ended. Please log in again.",
  invalid_challenge: "This sign-in took too long or was already used. Please log in again.",
  challenge_exhausted: "Too many wrong codes. Sign in again with your password.",
  invalid_code: "That code did not work. Check your OTP application and enter the current six-digit code.",
  invalid_code_format: "Please enter the six digits shown in your OTP application.",
  invalid_recovery_code_format: "Recovery codes look like abcde-fghij. Please check the code and try again.",
  invalid_password: "That password is not right.",
  reauthentication_required: "For your security, please confirm it's you.",
  forbidden: "You are not allowed to do this.",
  two_factor_required:
    "The support desk needs two-factor authentication. Please switch it on in Account Settings, then come back.",
  csrf_check_failed: "Something went wrong with this request. Please reload the page and try again.",
  signup_disabled: "New accounts cannot be created here. Please contact customer support.",
  username_taken: "This username is already taken. Please choose another one.",
  two_factor_already_enabled: "Two-factor authentication is already on.",
  two_factor_not_enabled: "Two-factor authentication is already off.",
  no_pending_enrollment: "The set-up has expired. Please uncheck and check the box again to get a new QR code.",
  server_busy: "The service is very busy right now. Please try again in a moment.",
  validation_failed: "Some of the information is not valid. Please check the fields.",
  invalid_body: "Something went wrong with this form. Please reload the page and try again.",
  malformed_request: "Something went wrong with this form. Please reload the page and try again.",
  payload_too_large: "What you entered is too long.",
  unsupported_media_type: "Something went wrong with this form. Please reload the page and try again.",
  not_found: "We could not find that.",
  method_not_allowed: "Something went wrong. Please reload the page and try again.",
  database_unavailable: "The service is temporarily unavailable. Please try again in a few minutes.",
  internal_error: "Something went wrong on our side. Please try again later.",
  network_error: "We could not reach the server. Check your internet connection and try again.",
};

/** Words a customer understands, for any problem the API (or the network) gives us. */
export function problemMessage(problem: Problem, now: Date = new Date()): string {
  if (problem.code === "too_many_attempts") return `Too many attempts. ${retryAdvice(problem, now)}`;
  if (problem.code === "validation_failed" && problem.detail) {
    return `Please check the ${problem.field ? fieldName(problem.field) : "form"}: ${problem.detail}.`;
  }
  return MESSAGES[problem.code] ?? "Something went wrong. Please try again later.";
}

/** When a throttled (`429`) call may be tried again, e.g. "Please wait 2 minutes and try again after 10:02." */
export function retryAdvice(problem: Problem, now: Date = new Date()): string {
  const seconds = problem.retry_after ?? 60;
  const at = new Date(now.getTime() + seconds * 1000);
  const time = at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  return `Please wait ${waitText(seconds)} and try again after ${time}.`;
}

function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function fieldName(field: string): string {
  return field.replace(/_/g, " ");
}
