import { SecurityEventList } from "../../components/SecurityEventList";
import { useSecurityEvents } from "../../hooks/useSecurityEvents";

/** The most recent security events; `version` changes whenever the account changed. */
export function SecurityEvents({ version }: { version: string }) {
  const { events, problem } = useSecurityEvents(null, version);
  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">Recent security events</h2>
      <SecurityEventList events={events} problem={problem} />
    </section>
  );
}
