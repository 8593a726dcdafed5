import { useIntl } from "react-intl";
import { Link, useSearchParams } from "react-router";
import { useT } from "../i18n";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { sameSitePath } from "../navigation";
import { Passkeys } from "./account/Passkeys";
import { TwoFactorSettings } from "./account/TwoFactorSettings";

/**
 * Where a set-up session lands: the hosting company requires a second factor and the deadline
 * has passed, so the server lets this session only read the account, set up TOTP or a passkey,
 * and sign out. The page stays after the set-up (the recovery codes must be saved first) and
 * then leads on to Account Settings, or back to where it was asked for (`return`: an app's
 * sign-in request that needs a second factor; only a path of this site is followed).
 */
export function TwoFactorSetupPage() {
  const t = useT();
  const intl = useIntl();
  const account = useAccount();
  const [search] = useSearchParams();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const returnTo = sameSitePath(search.get("return"));
  const since = account.two_factor_required_by;
  const required = account.two_factor.setup_required;
  // Asked for by an app (not required by the hosting company): done once a second factor is on.
  const done = returnTo ? account.two_factor.enabled && !required : !required;

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        {t("required.heading")}
      </h1>
      {done ? (
        <p className="alert alert-success">
          {returnTo ? (
            <>
              {t("required.done_return")} <Link to={returnTo}>{t("required.continue_return")}</Link>
            </>
          ) : (
            <>
              {t("required.done")} <Link to="/account">{t("required.continue")}</Link>
            </>
          )}
        </p>
      ) : required ? (
        <p className="alert alert-warning">
          {t("required.explain", { date: since ? intl.formatDate(since, { dateStyle: "medium", timeStyle: "short" }) : "" })}
        </p>
      ) : (
        <p className="alert alert-warning">{t("required.explain_return")}</p>
      )}
      <TwoFactorSettings account={account} />
      <Passkeys account={account} />
    </>
  );
}
