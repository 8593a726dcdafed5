import { useIntl } from "react-intl";
import { Link } from "react-router";
import { useT } from "../i18n";
import { useAccount } from "../hooks/useSession";

/** On every signed-in page while a required second factor is missing and the deadline is ahead. */
export function TwoFactorDeadlineBanner() {
  const t = useT();
  const intl = useIntl();
  const account = useAccount();
  const by = account.two_factor_required_by;
  if (!by || account.two_factor.setup_required) return null;
  return (
    <p className="alert alert-warning" role="note">
      {t("required.banner", { date: intl.formatDate(by, { dateStyle: "medium", timeStyle: "short" }) })}{" "}
      <Link to="/account#two-factor-heading">{t("required.banner_link")}</Link>
    </p>
  );
}
