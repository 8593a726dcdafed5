import { useRef, useState } from "react";
import { useIntl } from "react-intl";
import type { Account } from "../../api/types";
import { StatusMessage } from "../../components/Alert";
import { RecoveryCodes } from "../../components/RecoveryCodes";
import { SupportContact } from "../../components/SupportContact";
import { useT, type MessageId } from "../../i18n";
import { DisableTwoFactor } from "./DisableTwoFactor";
import { EnableTwoFactor } from "./EnableTwoFactor";
import { RegenerateRecoveryCodes } from "./RegenerateRecoveryCodes";

/** At or below this many unused recovery codes the customer is asked to create new ones. */
export const FEW_RECOVERY_CODES = 3;

type FreshCodes = { codes: string[]; done: MessageId };

export function TwoFactorSettings({ account }: { account: Account }) {
  const t = useT();
  const intl = useIntl();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [message, setMessage] = useState<MessageId | null>(null);
  // Lives here, not in the set-up form: the form goes away as soon as the account says "on",
  // while the codes must stay until the customer has saved them.
  const [fresh, setFresh] = useState<FreshCodes | null>(null);
  const { enabled, enabled_at, recovery_codes_remaining: remaining, methods } = account.two_factor;
  const hasTotp = methods.includes("totp");

  /** After a change the form that had focus is gone: focus goes to this section's heading. */
  function finish(text: MessageId) {
    setMessage(text);
    headingRef.current?.focus();
  }

  // The account was refetched by the change itself (api/twoFactor.ts): the status line says "on"
  // while the codes are on screen, not only after Done.
  function showCodes(codes: string[], done: MessageId) {
    setMessage(null);
    setFresh({ codes, done });
  }

  return (
    <section className="panel" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading" tabIndex={-1} ref={headingRef}>
        {t("twofa.heading")}
      </h2>
      <p className={enabled ? "state state-on" : "state state-off"}>
        {enabled
          ? enabled_at
            ? t("twofa.on_since", { date: intl.formatDate(enabled_at, { dateStyle: "medium", timeStyle: "short" }) })
            : t("twofa.on")
          : t("twofa.off")}
        {enabled && " "}
        {enabled && t("twofa.codes_left", { count: remaining })}
      </p>
      {enabled && !fresh && remaining <= FEW_RECOVERY_CODES && (
        <p className="alert alert-warning">{t("twofa.few_codes", { count: remaining })}</p>
      )}
      <StatusMessage>{message && t(message)}</StatusMessage>
      {fresh ? (
        <RecoveryCodes
          codes={fresh.codes}
          username={account.username}
          onAcknowledged={() => {
            setFresh(null);
            finish(fresh.done);
          }}
        />
      ) : enabled ? (
        <>
          {/* Two-factor on with passkeys only: an OTP application can be added beside them. */}
          {!hasTotp && (
            <EnableTwoFactor
              label="enable.checkbox_totp"
              onEnabled={(codes) => (codes.length > 0 ? showCodes(codes, "twofa.totp_added") : finish("twofa.totp_added"))}
              onStart={() => setMessage(null)}
            />
          )}
          {account.two_factor.required && <p className="hint">{t("required.switch_off_note")}</p>}
          <DisableTwoFactor
            onDisabled={() => finish("twofa.disabled")}
            onStart={() => setMessage(null)}
          />
          <RegenerateRecoveryCodes onCodes={(codes) => showCodes(codes, "twofa.codes_replaced")} />
          <SupportContact />
        </>
      ) : (
        <EnableTwoFactor
          onEnabled={(codes) => (codes.length > 0 ? showCodes(codes, "twofa.enabled") : finish("twofa.enabled"))}
          onStart={() => setMessage(null)}
        />
      )}
    </section>
  );
}
