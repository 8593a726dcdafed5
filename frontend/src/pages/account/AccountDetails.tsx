import { useIntl } from "react-intl";
import type { Account } from "../../api/types";
import { useT } from "../../i18n";

export function AccountDetails({ account }: { account: Account }) {
  const t = useT();
  const intl = useIntl();
  return (
    <section className="panel" aria-labelledby="details-heading">
      <h2 id="details-heading">{t("details.heading")}</h2>
      <dl className="details">
        <dt>{t("field.username")}</dt>
        <dd>{account.username}</dd>
        <dt>{t("details.type")}</dt>
        <dd>{t(account.role === "support" ? "details.type_support" : "details.type_customer")}</dd>
        <dt>{t("details.since")}</dt>
        <dd>{intl.formatDate(account.created_at, { dateStyle: "medium", timeStyle: "short" })}</dd>
      </dl>
    </section>
  );
}
