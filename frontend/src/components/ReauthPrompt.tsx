import { useState, type FormEvent } from "react";
import type { Account, Problem, Schemas } from "../api/types";
import { useT, type MessageId } from "../i18n";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { ProblemAlert } from "./Alert";
import { Field } from "./Field";

export type Proof = Schemas["ReauthenticationRequest"];
export type ProofKind = keyof Proof;

const LABELS: Record<ProofKind, MessageId> = {
  code: "field.code",
  recovery_code: "field.recovery_code",
  password: "field.password",
};

const HINTS: Record<ProofKind, MessageId | undefined> = {
  code: "reauth.code_hint",
  recovery_code: "reauth.recovery_code_hint",
  password: undefined,
};

/**
 * The proofs the server accepts: with two-factor on only a second factor (a password alone is
 * not enough), with two-factor off the password. A six-digit code only where the account has an
 * OTP application: an account with passkeys alone proves itself with a recovery code.
 */
export function proofKinds(twoFactor: Account["two_factor"]): ProofKind[] {
  if (!twoFactor.enabled) return ["password"];
  return twoFactor.methods.includes("totp") ? ["code", "recovery_code"] : ["recovery_code"];
}

type ReauthPromptProps = {
  /** Retries the action with the proof; resolves to a problem when it failed again. */
  onSubmit: (proof: Proof) => Promise<Problem | null>;
  onCancel: () => void;
};

/** Asks someone whose sign-in is older than ten minutes to prove it's them, then retries. */
export function ReauthPrompt({ onSubmit, onCancel }: ReauthPromptProps) {
  const t = useT();
  const { two_factor } = useAccount();
  const kinds = proofKinds(two_factor);
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
        {t("reauth.heading")}
      </h3>
      <p>
        {t(
          !two_factor.enabled
            ? "reauth.explain_password"
            : kinds.includes("code")
              ? "reauth.explain_codes"
              : "reauth.explain_recovery_code",
        )}
      </p>
      {kinds.length > 1 && (
        <fieldset>
          <legend>{t("reauth.confirm_with")}</legend>
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
              <label htmlFor={`reauth-${k}`}>{t(LABELS[k])}</label>
            </div>
          ))}
        </fieldset>
      )}
      <Field
        key={kind}
        label={t(LABELS[kind])}
        hint={HINTS[kind] && t(HINTS[kind])}
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
          {t("reauth.confirm")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
