import { SecurityEventList } from "../../components/SecurityEventList";
import { useT } from "../../i18n";
import { useSecurityEvents } from "../../hooks/useSecurityEvents";

/** The most recent security events; refetched whenever the account changes. */
export function SecurityEvents() {
  const t = useT();
  const { events, problem } = useSecurityEvents(null);
  return (
    <section className="panel" aria-labelledby="events-heading">
      <h2 id="events-heading">{t("events.heading")}</h2>
      <SecurityEventList events={events} problem={problem} />
    </section>
  );
}
