import type { IntlShape } from "react-intl";
import type { AppProblemCode, EventKind, Problem } from "../api/types";
import type { MessageId } from "./en";
import { feedbackMessages } from "./passwordFeedback";

/**
 * Every problem code, the server's and the SPA's own, to its words: `Record` makes a code added
 * to openapi.yaml fail typecheck until it has a message.
 */
const PROBLEM_MESSAGES: Record<AppProblemCode, MessageId> = {
  malformed_request: "problem.reload",
  invalid_body: "problem.reload",
  payload_too_large: "problem.payload_too_large",
  unsupported_media_type: "problem.reload",
  invalid_query: "problem.reload",
  not_found: "problem.not_found",
  method_not_allowed: "problem.reload",
  validation_failed: "problem.validation_failed",
  password_too_weak: "problem.password_too_weak",
  password_breached: "problem.password_breached",
  network_not_allowed: "problem.network_not_allowed",
  invalid_code_format: "problem.invalid_code_format",
  invalid_recovery_code_format: "problem.invalid_recovery_code_format",
  invalid_credentials: "problem.invalid_credentials",
  password_sign_in_blocked: "problem.password_sign_in_blocked",
  invalid_token: "problem.session_ended",
  invalid_refresh_token: "problem.session_ended",
  invalid_challenge: "problem.invalid_challenge",
  invalid_code: "problem.invalid_code",
  invalid_password: "problem.invalid_password",
  reauthentication_required: "problem.reauthentication_required",
  forbidden: "problem.forbidden",
  signup_disabled: "problem.signup_disabled",
  username_taken: "problem.username_taken",
  two_factor_already_enabled: "problem.two_factor_already_enabled",
  two_factor_not_enabled: "problem.two_factor_not_enabled",
  no_pending_enrollment: "problem.no_pending_enrollment",
  too_many_attempts: "problem.too_many_attempts",
  challenge_exhausted: "problem.challenge_exhausted",
  two_factor_required: "problem.two_factor_required",
  two_factor_setup_required: "problem.two_factor_setup_required",
  second_factor_required: "problem.second_factor_required",
  insufficient_scope: "problem.insufficient_scope",
  passkey_refused: "problem.passkey_refused",
  passkey_already_registered: "passkey.already_registered",
  too_many_passkeys: "problem.too_many_passkeys",
  no_passkeys: "problem.no_passkeys",
  consent_required: "problem.consent_required",
  step_up_required: "problem.step_up_required",
  csrf_check_failed: "problem.reload",
  server_busy: "problem.server_busy",
  database_unavailable: "problem.database_unavailable",
  // Only load balancers ask for readiness; should a client meet it, it is an outage.
  not_ready: "problem.database_unavailable",
  internal_error: "problem.internal_error",
  network_error: "problem.network_error",
  unexpected_response: "problem.unknown",
};

/** Every event kind in words; `Record` makes a new kind fail typecheck until it has a label. */
const EVENT_LABELS: Record<EventKind, MessageId> = {
  login_succeeded: "event.login_succeeded",
  login_failed: "event.login_failed",
  otp_failed: "event.otp_failed",
  two_factor_enabled: "event.two_factor_enabled",
  two_factor_disabled: "event.two_factor_disabled",
  recovery_code_used: "event.recovery_code_used",
  recovery_codes_regenerated: "event.recovery_codes_regenerated",
  two_factor_reset_by_support: "event.two_factor_reset_by_support",
  password_changed: "event.password_changed",
  account_locked: "event.account_locked",
  account_unlocked_by_support: "event.account_unlocked_by_support",
  password_reset: "event.password_reset",
  email_changed: "event.email_changed",
  email_verified: "event.email_verified",
  session_revoked: "event.session_revoked",
  device_forgotten: "event.device_forgotten",
  api_token_created: "event.api_token_created",
  api_token_revoked: "event.api_token_revoked",
  passkey_added: "event.passkey_added",
  passkey_removed: "event.passkey_removed",
  passkey_used: "event.passkey_used",
  two_factor_required_by_support: "event.two_factor_required_by_support",
  two_factor_requirement_lifted_by_support: "event.two_factor_requirement_lifted_by_support",
  not_me_reported: "event.not_me_reported",
  api_token_network_refused: "event.api_token_network_refused",
  app_access_granted: "event.app_access_granted",
  app_access_revoked: "event.app_access_revoked",
};

/** Words a customer understands, for any problem the API (or the network) gives us. */
export function problemMessage(intl: IntlShape, problem: Problem): string {
  if (problem.code === "too_many_attempts") {
    return intl.formatMessage({ id: "problem.too_many_attempts" }, { advice: retryAdvice(intl, problem) });
  }
  if (problem.code === "password_too_weak") {
    const why = problem.feedback ? feedbackMessages(intl, problem.feedback) : [];
    return [intl.formatMessage({ id: "problem.password_too_weak" }), ...why].join(" ");
  }
  if (problem.code === "validation_failed" && problem.detail) {
    return intl.formatMessage(
      { id: "problem.validation_failed" },
      { field: problem.field ? problem.field.replace(/_/g, " ") : "-", detail: problem.detail },
    );
  }
  // A server newer than this SPA may send a code we do not know yet.
  const id = (PROBLEM_MESSAGES as Partial<Record<string, MessageId>>)[problem.code] ?? "problem.unknown";
  return intl.formatMessage({ id });
}

/**
 * When a throttled (`429`) call may be tried again. The deadline was fixed when the answer
 * arrived (`retryAt`), so the time shown does not move; it is in the customer's locale and zone.
 */
export function retryAdvice(intl: IntlShape, problem: Problem): string {
  if (problem.retryAt == null || problem.retry_after == null) return intl.formatMessage({ id: "retry.later" });
  const seconds = Math.max(1, problem.retry_after);
  const wait =
    seconds < 60
      ? intl.formatMessage({ id: "retry.seconds" }, { count: seconds })
      : intl.formatMessage({ id: "retry.minutes" }, { count: Math.ceil(seconds / 60) });
  const time = intl.formatTime(problem.retryAt, { hour: "2-digit", minute: "2-digit" });
  return intl.formatMessage({ id: "retry.advice" }, { wait, time });
}

export function eventLabel(intl: IntlShape, kind: string): string {
  const id = (EVENT_LABELS as Partial<Record<string, MessageId>>)[kind];
  return id ? intl.formatMessage({ id }) : kind;
}
