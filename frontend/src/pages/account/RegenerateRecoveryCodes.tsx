import { useState } from "react";
import { run } from "../../api/problems";
import { ProblemAlert } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { RecoveryCodes } from "../../components/RecoveryCodes";
import { useApi } from "../../hooks/useApi";
import { usePrivileged } from "../../hooks/usePrivileged";

type Props = { username: string; onDone: () => void };

export function RegenerateRecoveryCodes({ username, onDone }: Props) {
  const { client } = useApi();
  const [confirming, setConfirming] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);

  const regenerate = usePrivileged(
    (proof) =>
run(client.POST("/api/v1/account/two-factor/recovery-codes", { body: proof })),
    (data) => setCodes(data.recovery_codes),
  );

  if (codes) {
    return (
      <RecoveryCodes
        codes={codes}
        username={username}
        onAcknowledged={() => {
          setCodes(null);
          onDone();
        }}
      />
    );
  }

  return (
    <div className="subsection">
      <h3>Recovery codes</h3>
      <p>Lost or used up your recovery codes? Create new ones; the old ones then stop working.</p>
      {regenerate.reauthNeeded ? (
        <ReauthPrompt onSubmit={regenerate.retry} onCancel={regenerate.cancel} />
      ) : (
        <button type="button" disabled={regenerate.busy} onClick={() => setConfirming(true)}>
          Create new recovery codes
        </button>
      )}
      <ProblemAlert problem={regenerate.problem} />
      {confirming && (
        <ConfirmDialog
          title="Create new recovery codes?"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void regenerate.start();
          }}
        >
          <p>Your current recovery codes will stop working.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
