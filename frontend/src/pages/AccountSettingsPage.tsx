import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { AccountDetails } from "./account/AccountDetails";
import { ChangePassword } from "./account/ChangePassword";
import { SecurityEvents } from "./account/SecurityEvents";
import { TwoFactorSettings } from "./account/TwoFactorSettings";

export function AccountSettingsPage() {
  const account = useAccount();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const { two_factor } = account;
  const version = `${two_factor.enabled}-${two_factor.enabled_at ?? ""}-${two_factor.recovery_codes_remaining}`;

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        Account Settings
      </h1>
      <AccountDetails account={account} />
      <TwoFactorSettings account={account} />
      <ChangePassword />
      <SecurityEvents version={version} />
    </>
  );
}
