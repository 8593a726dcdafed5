import { useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../api/client";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { ProblemAlert } from "./Alert";
import { Field } from "./Field";

export type Proof = Schemas["ReauthenticationRequest"];
export type ProofKind = keyof Proof;

const LABELS: Record<ProofKind, string> = {
  code: "Six-digit code",
  recovery_code: "Recovery code",
  password: "Password",
};

type ReauthPromptProps = {
  /** Which proofs the action accepts, in the order offered. */
  kinds: ProofKind[];
  /** Retries the action with the proof; resolves to a problem when it failed again. */
  onSubmit: (proof: Proof) => Promise<Problem | null>;
  onCancel: () => void;
};

/** Asks a customer whose sign-in is older than ten minutes to prove it's them, then retries. */
export function ReauthPrompt({ kinds, onSubmit, onCancel }: ReauthPromptProps) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [kind, setKind] = useState<ProofKind>(kinds[0] ?? "password");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    event.stopPropagation();
    setBusy(true);
    const failed = await onSubmit({ [kind]: value.trim() });
    setBusy(false);
    setProblem(failed);
  }

  return (
    <form className="panel reauth" onSubmit={(e) => void submit(e)} aria-labelledby="reauth-heading">
      <h3 id="reauth-heading" tabIndex={-1} ref={headingRef}>
        Confirm it's you
      </h3>
      <p>You logged in a while ago. To protect your account, please confirm it's you before this change.</p>
      {kinds.length > 1 && (
        <fieldset>
          <legend>Confirm with</legend>
          {kinds.map((k) => (
            <div className="radio" key={k}>
              <input
                type="radio"
                id={`reauth-${k}`}
                name="reauth-kind"
                checked={kind === k}
                onChange={() => {
                  setKind(k);
                  setValue("");
                }}
              />
              <label htmlFor={`reauth-${k}`}>{LABELS[k]}</label>
            </div>
          ))}
        </fieldset>
      )}
      <Field
        key={kind}
        label={LABELS[kind]}
        type={kind === "password" ? "password" : "text"}
        autoComplete={kind === "code" ? "one-time-code" : kind === "password" ? "current-password" : "off"}
        inputMode={kind === "code" ? "numeric" : undefined}
        required
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <ProblemAlert problem={problem} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Confirm
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
