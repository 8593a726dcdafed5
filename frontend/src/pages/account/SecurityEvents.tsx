import { useEffect, useState } from "react";
import type { Problem, Schemas } from "../../api/client";
import { run } from "../../api/problems";
import { ProblemAlert } from "../../components/Alert";
import { useApi } from "../../hooks/useApi";
import { formatDate } from "./format";

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
};

/** The most recent security events; `version` changes whenever the account changed. */
export function SecurityEvents({ version }: { version: string }) {
  const { client } = useApi();
  const [events, setEvents] = useState<Schemas["SecurityEvent"][] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    let cancelled = false;
    void run(client.GET("/api/v1/account/events", { params: { query: { limit: 20 } } })).then((result) => {
      if (cancelled) return;
      if (result.ok) setEvents(result.data.events);
      else setProblem(result.problem);
    });
    return () => {
      cancelled = true;
    };
  }, [client, version]);

  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Recent security events</h2>
      <ProblemAlert problem={problem} />
      {events === null && !problem && <p>Loading…</p>}
      {events?.length === 0 && <p>No events yet.</p>}
      {events && events.length > 0 && (
        <ul className="events">
          {events.map((event) => (
            <li key={event.id}>
              <strong>{KINDS[event.kind] ?? event.kind}</strong>
              <span>
                <time dateTime={event.at}>{formatDate(event.at)}</time>
                {event.ip && ` · ${event.ip}`}
              </span>
              {event.user_agent && <span className="muted">{event.user_agent}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
