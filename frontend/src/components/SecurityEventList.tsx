import { useIntl } from "react-intl";
import type { Problem, Schemas } from "../api/types";
import { useT } from "../i18n";
import { eventLabel } from "../i18n/problems";
import { ProblemAlert } from "./Alert";
import { DeviceName } from "./DeviceName";

type SecurityEventListProps = {
  /** `null` while loading. */
  events: Schemas["SecurityEvent"][] | null;
  problem: Problem | null;
};

/**
 * Security events, newest first, with when and from where. Failures repeated from one network
 * within an hour are one event with a count (the server's rule): say how many, and when the last.
 */
export function SecurityEventList({ events, problem }: SecurityEventListProps) {
  const t = useT();
  const intl = useIntl();
  return (
    <>
      <ProblemAlert problem={problem} />
      {events === null && !problem && <p>{t("common.loading")}</p>}
      {events?.length === 0 && <p>{t("events.none")}</p>}
      {events && events.length > 0 && (
        <ul className="events">
          {events.map((event) => (
            <li key={event.id}>
              <strong>{eventLabel(intl, event.kind)}</strong>
              <span>
                <time dateTime={event.at}>{intl.formatDate(event.at, { dateStyle: "medium", timeStyle: "short" })}</time>
                {event.count > 1 &&
                  ` · ${t("events.repeated", {
                    count: event.count,
                    last: intl.formatTime(event.last_at, { timeStyle: "short" }),
                  })}`}
                {event.ip && ` · ${event.ip}`}
              </span>
              {event.user_agent && (
                <span className="muted">
                  <DeviceName name={event.device_name} userAgent={event.user_agent} />
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
