import { useApiMutation } from "./mutation";

/**
 * "This wasn't me", confirmed with the token of a notice's link: every session (this one too),
 * API token and device of the account ends and the password is blocked until it is reset.
 * Single use; `400 invalid_token` once used, voided or expired.
 */
export function useReportNotMe() {
  return useApiMutation((client, token: string) => client.POST("/api/v1/auth/not-me", { body: { token } }));
}
