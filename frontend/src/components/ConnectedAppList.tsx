import { useIntl } from "react-intl";
import type { Problem, Schemas } from "../api/types";
import { useT, type MessageId } from "../i18n";
import { ProblemAlert } from "./Alert";
import { AppScopes } from "./AppScopes";

type ConnectedApp = Schemas["ConnectedApp"];

type ConnectedAppListProps = {
  /** `null` while loading. */
  apps: ConnectedApp[] | null;
  problem: Problem | null;
  /** What an empty list says: "your account" to the customer, "this account" to support. */
  none: MessageId;
  /** Offers Remove on each app (the customer's own list); without it the list is read only (support). */
  onRemove?: (app: ConnectedApp) => void;
};

/** Apps that may see an account: what each sees, since when, when it last did. */
export function ConnectedAppList({ apps, problem, none, onRemove }: ConnectedAppListProps) {
  const t = useT();
  const intl = useIntl();
  const when = (at: string) => intl.formatDate(at, { dateStyle: "medium", timeStyle: "short" });
  return (
    <>
      <ProblemAlert problem={problem} />
      {apps === null && !problem && <p>{t("common.loading")}</p>}
      {apps?.length === 0 && <p>{t(none)}</p>}
      {apps && apps.length > 0 && (
        <ul className="places apps">
          {apps.map((app) => (
            <li key={app.client_id}>
              <strong className="agent">{app.name}</strong>
              <AppScopes scopes={app.scopes} />
              <span className="muted">
                {t("apps.granted_at", { date: when(app.granted_at) })}
                {" · "}
                {app.last_used_at ? t("apps.last_used", { date: when(app.last_used_at) }) : t("apps.never_used")}
              </span>
              {onRemove && (
                <button type="button" onClick={() => onRemove(app)} aria-label={t("apps.remove_label", { name: app.name })}>
                  {t("apps.remove")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
