import { useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../../api/client";
import { run } from "../../api/problems";
import { ProblemAlert } from "../../components/Alert";
import { Field } from "../../components/Field";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { RecoveryCodes } from "../../components/RecoveryCodes";
import { useApi } from "../../hooks/useApi";
import { useFocusOnMount } from "../../hooks/useFocusOnMount";
import { usePrivileged } from "../../hooks/usePrivileged";
import { groupSecret } from "./format";

type Props = { username: string; onEnabled: () => void; onStart: () => void };

export function EnableTwoFactor({ username, onEnabled, onStart }: Props) {
  const { client } = useApi();
  const [checked, setChecked] = useState(false);
  const [enrollment, setEnrollment] = useState<Schemas["EnrollResponse"] | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const enroll = usePrivileged(
    (proof) =>
      run(client.POST("/api/v1/account/two-factor/enroll", { body: proof.password ? { password: proof.password } : {} })),
    setEnrollment,
  );

  function toggle(on: boolean) {
    setChecked(on);
    setEnrollment(null);
    setProblem(null);
    if (on) {
      onStart();
      void enroll.start();
    } else {
      enroll.cancel();
    }
  }

  async function save(code: string) {
    setProblem(null);
    setBusy(true);
    const result = await run(client.POST("/api/v1/account/two-factor/confirm", { body: { code } }));
    setBusy(false);
    if (result.ok) setRecoveryCodes(result.data.recovery_codes);
    else setProblem(result.problem);
  }

  if (recoveryCodes) {
    return <RecoveryCodes codes={recoveryCodes} username={username} onAcknowledged={onEnabled} />;
  }

  return (
    <div>
      <div className="checkbox">
        <input id="enable-2fa" type="checkbox" checked={checked} onChange={(e) => toggle(e.target.checked)} />
        <label htmlFor="enable-2fa">Set up two-factor authentication when logging in using a username and password</label>
      </div>
      {enroll.reauthNeeded && (
        <ReauthPrompt onSubmit={enroll.retry} onCancel={() => toggle(false)} />
      )}
      <ProblemAlert problem={enroll.problem} />
      {checked && enrollment && (
        <SetUpSteps enrollment={enrollment} busy={busy} problem={problem} onSave={(code) => void save(code)} />
      )}
    </div>
  );
}

function SetUpSteps(props: {
  enrollment: Schemas["EnrollResponse"];
  busy: boolean;
  problem: Problem | null;
  onSave: (code: string) => void;
}) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [code, setCode] = useState("");
  const { secret, qr_svg } = props.enrollment;

  function submit(event: FormEvent) {
    event.preventDefault();
    props.onSave(code.replace(/\s/g, ""));
  }

  return (
    <form className="setup" onSubmit={submit} aria-labelledby="setup-heading">
      <h3 id="setup-heading" tabIndex={-1} ref={headingRef}>
        Set up your OTP application
      </h3>
      <ol className="steps">
        <li>
          <p>Scan the QR code with your OTP application.</p>
          <img
            className="qr"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(qr_svg)}`}
            alt="QR code for adding custadmin to your OTP application"
            width={200}
            height={200}
          />
          <p>
            Can't scan it? Enter this key in the application instead:{" "}
<code className="secret">{groupSecret(secret)}</code>
          </p>
        </li>
        <li>
          <Field
            label="Six-digit code"
            hint="Enter the six-digit code your OTP application now shows."
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={8}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </li>
      </ol>
      <ProblemAlert problem={props.problem} />
      <button type="submit" className="primary" disabled={props.busy}>
        Save Settings
      </button>
    </form>
  );
}
