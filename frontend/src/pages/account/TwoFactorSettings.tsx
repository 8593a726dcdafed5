import { useState } from "react";
import type { Account } from "../../api/client";
import { StatusMessage } from "../../components/Alert";
import { useSession } from "../../hooks/useSession";
import { DisableTwoFactor } from "./DisableTwoFactor";
import { EnableTwoFactor } from "./EnableTwoFactor";
import { RegenerateRecoveryCodes } from "./RegenerateRecoveryCodes";
import { formatDate } from "./format";

export function TwoFactorSettings({ account }: { account: Account }) {
  const { reloadAccount } = useSession();
  const [message, setMessage] = useState("");
  const { enabled, enabled_at, recovery_codes_remaining } = account.two_factor;

  async function changed(text: string) {
    await reloadAccount();
    setMessage(text);
  }

  return (
    <section className="panel" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading">Two-factor authentication</h2>
      <p className={enabled ? "state state-on" : "state state-off"}>
        {enabled
          ? `Two-factor authentication is on${enabled_at ? ` since ${formatDate(enabled_at)}` : ""}. You have ${recovery_codes_remaining} unused recovery codes.`
          : "Two-factor authentication is off. Logging in needs only your username and password."}
      </p>
      <StatusMessage>{message}</StatusMessage>
      {enabled ? (
        <>
          <DisableTwoFactor
            onDisabled={() => void changed("Two-factor authentication has been disabled. Logging in now needs only your username and password.")}
            onStart={() => setMessage("")}
          />
          <RegenerateRecoveryCodes username={account.username} onDone={() => void changed("Your new recovery codes are active; the old ones no longer work.")} />
        </>
      ) : (
        <EnableTwoFactor
          username={account.username}
          onEnabled={() => void changed("Two-factor authentication is on. From now on, logging in also asks for the six-digit code.")}
          onStart={() => setMessage("")}
        />
      )}
    </section>
  );
}
