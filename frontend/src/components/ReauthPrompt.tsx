import { useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../api/client";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { ProblemAlert } from "./Alert";
import { Field } from "./Field";

export type Proof = Schemas["ReauthenticationRequest"];
export type ProofKind = keyof Proof;

const LABELS: Record<ProofKind, string> = {
  code: "Six-digit code",
  recovery_code: "Recovery code",
  password: "Password",
};

const HINTS: Record<ProofKind, string | undefined> = {
  code: "The six-digit code your OTP application shows now.",
  recovery_code: "One of the recovery codes you saved, like abcde-fghij. It works only once.",
  password: undefined,
};

/**
 * The proofs the server accepts: with two-factor on only a second factor (a password alone is
 * not enough), with two-factor off the password.
 */
function proofKinds(twoFactorEnabled: boolean): ProofKind[] {
  return twoFactorEnabled ? ["code", "recovery_code"] : ["password"];
}

type ReauthPromptProps = {
  /** Retries the action with the proof; resolves to a problem when it failed again. */
  onSubmit: (proof: Proof) => Promise<Problem | null>;
  onCancel: () => void;
};

/** Asks someone whose sign-in is older than ten minutes to prove it's them, then retries. */
export function ReauthPrompt({ onSubmit, onCancel }: ReauthPromptProps) {
  const { two_factor } = useAccount();
  const kinds = proofKinds(two_factor.enabled);
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [kind, setKind] = useState<ProofKind>(kinds[0] ?? "password");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    event.stopPropagation();
    setBusy(true);
    // Codes are often typed with a space in the middle ("123 456"); the server takes digits only.
    const entered = kind === "code" ? value.replace(/\s/g, "") : value.trim();
    const failed = await onSubmit({ [kind]: entered });
    setBusy(false);
    setProblem(failed);
  }

  return (
    <form className="panel reauth" onSubmit={(e) => void submit(e)} aria-labelledby="reauth-heading">
      <h3 id="reauth-heading" tabIndex={-1} ref={headingRef}>
        Confirm it's you
      </h3>
      <p>
        {two_factor.enabled
          ? "You logged in a while ago. To protect your account, please confirm it's you with a six-digit code from your OTP application or one of your recovery codes."
          : "You logged in a while ago. To protect your account, please enter your password to confirm it's you."}
      </p>
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
                  setProblem(null);
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
        hint={HINTS[kind]}
        type={kind === "password" ? "password" : "text"}
        autoComplete={kind === "code" ? "one-time-code" : kind === "password" ? "current-password" : "off"}
        inputMode={kind === "code" ? "numeric" : undefined}
        autoCapitalize={kind === "recovery_code" ? "off" : undefined}
        spellCheck={kind === "password" ? undefined : false}
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
