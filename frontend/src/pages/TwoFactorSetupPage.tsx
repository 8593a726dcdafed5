import { useIntl } from "react-intl";
import { Link } from "react-router";
import { useT } from "../i18n";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { Passkeys } from "./account/Passkeys";
import { TwoFactorSettings } from "./account/TwoFactorSettings";

/**
 * Where a set-up session lands: the hosting company requires a second factor and the deadline
 * has passed, so the server lets this session only read the account, set up TOTP or a passkey,
 * and sign out. The page stays after the set-up (the recovery codes must be saved first) and
 * then leads on to Account Settings.
 */
export function TwoFactorSetupPage() {
  const t = useT();
  const intl = useIntl();
  const account = useAccount();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const since = account.two_factor_required_by;
  const done = !account.two_factor.setup_required;

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        {t("required.heading")}
      </h1>
      {done ? (
        <p className="alert alert-success">
          {t("required.done")} <Link to="/account">{t("required.continue")}</Link>
        </p>
      ) : (
        <p className="alert alert-warning">
          {t("required.explain", { date: since ? intl.formatDate(since, { dateStyle: "medium", timeStyle: "short" }) : "" })}
        </p>
      )}
      <TwoFactorSettings account={account} />
      <Passkeys account={account} />
    </>
  );
}
