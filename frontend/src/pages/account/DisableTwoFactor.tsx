import { useState, type FormEvent } from "react";
import { useDisableTwoFactor } from "../../api/twoFactor";
import { ErrorAlert, ProblemAlert } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useT } from "../../i18n";
import { usePrivileged } from "../../hooks/usePrivileged";
import { useAccount } from "../../hooks/useSession";

type Props = { onDisabled: () => void; onStart: () => void };

/**
 * The article's order: tick the box → the prompt appears at once (Cancel unticks it) → OK →
 * "Save Settings" sends the request.
 */
export function DisableTwoFactor({ onDisabled, onStart }: Props) {
  const t = useT();
  // Disabling removes every second factor, passkeys too: say so before it happens.
  const hasPasskeys = useAccount().two_factor.methods.includes("webauthn");
  const [checked, setChecked] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [untickedSave, setUntickedSave] = useState(false);

  const disable = usePrivileged(useDisableTwoFactor(), (proof) => proof, onDisabled);

  function tick(on: boolean) {
    setChecked(on);
    setUntickedSave(false);
    disable.cancel();
    if (on) setConfirming(true);
  }

  function save(event: FormEvent) {
    event.preventDefault();
    if (!checked) return setUntickedSave(true);
    onStart();
    void disable.start();
  }

  return (
    <div>
      <form onSubmit={save} aria-label={t("disable.form")}>
        <div className="checkbox">
          <input id="disable-2fa" type="checkbox" checked={checked} onChange={(e) => tick(e.currentTarget.checked)} />
          <label htmlFor="disable-2fa">{t("disable.checkbox")}</label>
        </div>
        <ErrorAlert>{untickedSave && t("disable.tick_first")}</ErrorAlert>
        {!disable.reauthNeeded && (
          <button type="submit" className="primary" disabled={disable.busy}>
            {t("common.save_settings")}
          </button>
        )}
      </form>
      {disable.reauthNeeded && (
        <ReauthPrompt
          onSubmit={disable.retry}
          onCancel={() => {
            disable.cancel();
            setChecked(false);
            document.getElementById("disable-2fa")?.focus();
          }}
        />
      )}
      <ProblemAlert problem={disable.problem} />
      {confirming && (
        <ConfirmDialog
          title={t("disable.confirm_title")}
          onCancel={() => {
            setConfirming(false);
            setChecked(false);
          }}
          onConfirm={() => setConfirming(false)}
        >
          <p>{t("disable.confirm_body")}</p>
          {hasPasskeys && <p>{t("disable.confirm_passkeys")}</p>}
        </ConfirmDialog>
      )}
    </div>
  );
}
