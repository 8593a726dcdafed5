import { useState } from "react";
import { useRegenerateRecoveryCodes } from "../../api/twoFactor";
import { ProblemAlert } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useT } from "../../i18n";
import { usePrivileged } from "../../hooks/usePrivileged";

export function RegenerateRecoveryCodes({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const t = useT();
  const [confirming, setConfirming] = useState(false);

  const regenerate = usePrivileged(useRegenerateRecoveryCodes(), (proof) => proof, (data) => onCodes(data.recovery_codes));

  return (
    <div className="subsection">
      <h3>{t("regenerate.heading")}</h3>
      <p>{t("regenerate.explain")}</p>
      {regenerate.reauthNeeded ? (
        <ReauthPrompt onSubmit={regenerate.retry} onCancel={regenerate.cancel} />
      ) : (
        <button type="button" disabled={regenerate.busy} onClick={() => setConfirming(true)}>
          {t("regenerate.submit")}
        </button>
      )}
      <ProblemAlert problem={regenerate.problem} />
      {confirming && (
        <ConfirmDialog
          title={t("regenerate.confirm_title")}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void regenerate.start();
          }}
        >
          <p>{t("regenerate.confirm_body")}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
