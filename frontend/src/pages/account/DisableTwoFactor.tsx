import { useState, type FormEvent } from "react";
import { run } from "../../api/problems";
import { ProblemAlert } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useApi } from "../../hooks/useApi";
import { usePrivileged } from "../../hooks/usePrivileged";

type Props = { onDisabled: () => void; onStart: () => void };

export function DisableTwoFactor({ onDisabled, onStart }: Props) {
  const { client } = useApi();
  const [checked, setChecked] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const disable = usePrivileged(
    (proof) => run(client.POST("/api/v1/account/two-factor/disable", { body: proof })),
    onDisabled,
  );

  function save(event: FormEvent) {
    event.preventDefault();
    if (checked) setConfirming(true);
  }

  return (
    <div>
      <form onSubmit={save} aria-label="Disable two-factor authentication">
        <div className="checkbox">
          <input
            id="disable-2fa"
            type="checkbox"
            checked={checked}
            onChange={(e) => {
              setChecked(e.target.checked);
              disable.cancel();
            }}
          />
          <label htmlFor="disable-2fa">Disable two-factor authentication when logging in with a username and password</label>
        </div>
        {!disable.reauthNeeded && (
          <button type="submit" className="primary" disabled={disable.busy}>
            Save Settings
          </button>
        )}
      </form>
      {disable.reauthNeeded && (
        <ReauthPrompt
          onSubmit={disable.retry}
          onCancel={() => {
            disable.cancel();
            setChecked(false);
          }}
        />
      )}
      <ProblemAlert problem={disable.problem} />
      {confirming && (
        <ConfirmDialog
          title="Disable two-factor authentication?"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            onStart();
            void disable.start();
          }}
        >
          <p>Logging in will then need only your username and password. You can set it up again at any time.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
