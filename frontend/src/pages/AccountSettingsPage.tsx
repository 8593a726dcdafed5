import { useT } from "../i18n";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { AccountDetails } from "./account/AccountDetails";
import { ApiTokens } from "./account/ApiTokens";
import { ChangePassword } from "./account/ChangePassword";
import { ConnectedApps } from "./account/ConnectedApps";
import { EmailSettings } from "./account/EmailSettings";
import { Passkeys } from "./account/Passkeys";
import { SecurityEvents } from "./account/SecurityEvents";
import { SignedInPlaces } from "./account/SignedInPlaces";
import { TwoFactorSettings } from "./account/TwoFactorSettings";

export function AccountSettingsPage() {
  const t = useT();
  const account = useAccount();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("account.heading"));

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        {t("account.heading")}
      </h1>
      <AccountDetails account={account} />
      <EmailSettings account={account} />
      <TwoFactorSettings account={account} />
      <Passkeys account={account} />
      <ChangePassword account={account} />
      <SignedInPlaces />
      <ApiTokens account={account} />
      <ConnectedApps />
      <SecurityEvents />
    </>
  );
}

