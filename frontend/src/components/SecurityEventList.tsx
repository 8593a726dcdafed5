import type { Problem, Schemas } from "../api/client";
import { formatDate } from "../pages/account/format";
import { ProblemAlert } from "./Alert";

/** Every event kind in words; an unknown new kind is shown as its code rather than hidden. */
const KINDS: Record<string, string> = {
  login_succeeded: "Logged in",
  login_failed: "Failed login",
  otp_failed: "Wrong six-digit code",
  two_factor_enabled: "Two-factor authentication set up",
  two_factor_disabled: "Two-factor authentication disabled",
  recovery_code_used: "Recovery code used",
  recovery_codes_regenerated: "New recovery codes created",
  two_factor_reset_by_support: "Two-factor authentication reset by customer support",
  password_changed: "Password changed",
  account_locked: "Account temporarily locked after failed attempts",
  account_unlocked_by_support: "Sign-in unlocked by customer support",
};

export function eventLabel(kind: string): string {
  return KINDS[kind] ?? kind;
}

type SecurityEventListProps = {
  /** `null` while loading. */
  events: Schemas["SecurityEvent"][] | null;
  problem: Problem | null;
};

/** Security events, newest first, with when and from where. */
export function SecurityEventList({ events, problem }: SecurityEventListProps) {
  return (
    <>
      <ProblemAlert problem={problem} />
      {events === null && !problem && <p>Loading…</p>}
      {events?.length === 0 && <p>No events yet.</p>}
      {events && events.length > 0 && (
        <ul className="events">
          {events.map((event) => (
            <li key={event.id}>
              <strong>{eventLabel(event.kind)}</strong>
              <span>
                <time dateTime={event.at}>{formatDate(event.at)}</time>
                {event.ip && ` · ${event.ip}`}
              </span>
              {event.user_agent && <span className="muted">{event.user_agent}</span>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
