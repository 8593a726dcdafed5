import { useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useApi } from "../api/context";
import { useConfirmPasswordReset, useResetPasskeyOptions } from "../api/passwordReset";
import { settle } from "../api/problems";
import type { Problem } from "../api/types";
import { signWithPasskey, webAuthnAvailable, type CeremonyFailure } from "../api/webauthn";
import { ErrorAlert, ProblemAlert, StatusMessage } from "../components/Alert";
import { CeremonyNote } from "../components/CeremonyNote";
import { Field } from "../components/Field";
import { PasswordStrength } from "../components/PasswordStrength";
import { describePasskeyProblem } from "../components/ReauthPrompt";
import { SecondFactorField, typedFactor, type TypedFactor } from "../components/SecondFactorField";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { useT } from "../i18n";

type SecondFactor = { code: string } | { recovery_code: string } | { webauthn: Record<string, never> };
type ServerOptions = Record<string, unknown>;
/** Options fetched when the step opened, kept for the first press (the server keeps them 5 minutes). */
type HeldOptions = { options: ServerOptions; fetchedAt: number };
const HELD_OPTIONS_MS = 4 * 60_000;

/**
 * Where the mailed reset link lands: a new password (typed twice); with two-factor on, the server
 * answers `403 second_factor_required` and the page asks for the second factor before sending it
 * again. Whether the account has passkeys is learnt by asking the link's passkey options then
 * (`409 no_passkeys` otherwise): a passkey is offered first, the codes stay beside it.
 */
export function ResetPasswordPage() {
  const t = useT();
  const { session } = useApi();
  const resetPasskeyOptions = useResetPasskeyOptions();
  const confirmReset = useConfirmPasswordReset();
  const { state } = useSession();
  const [search] = useSearchParams();
  const token = search.get("token") ?? "";
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("reset.heading"));
  const codeHeadingRef = useRef<HTMLHeadingElement>(null);
  const doneHeadingRef = useRef<HTMLHeadingElement>(null);
  const newRef = useRef<HTMLInputElement>(null);
  const repeatRef = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [needsCode, setNeedsCode] = useState(false);
  const [hasPasskey, setHasPasskey] = useState(false);
  const [heldOptions, setHeldOptions] = useState<HeldOptions | null>(null);
  const [factor, setFactor] = useState<TypedFactor>("code");
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  // Whether the problem shown answered a passkey (a refused one is `invalid_code` for the server).
  const [byPasskey, setByPasskey] = useState(false);
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);
  const [inBrowser, setInBrowser] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const canPasskey = hasPasskey && webAuthnAvailable();

  function show(failed: Problem | null, passkey: boolean) {
    setProblem(failed);
    setByPasskey(passkey);
  }

  function passwordsAgree(): boolean {
    if (password !== repeat) {
      setMismatch(true);
      return false;
    }
    setMismatch(false);
    return true;
  }

  /** The link's passkey options, or the problem that says why there are none. */
  function passkeyOptions() {
    return settle(resetPasskeyOptions.mutateAsync(token));
  }

  /** Sends the new password with `proof`; answers the problem when it failed. */
  async function confirm(proof: SecondFactor | Record<string, never>): Promise<Problem | null> {
    const result = await settle(confirmReset.mutateAsync({ token, new_password: password, ...proof }));
    if (!result.ok) return result.problem;
    setDone(true);
    // Every session of the account ended, this tab's too if it was signed in.
    if (state.status === "signed-in") session.expire();
    requestAnimationFrame(() => doneHeadingRef.current?.focus());
    return null;
  }

  /** The step for the second factor opens: does the account have a passkey to offer? */
  async function openSecondFactorStep() {
    const options = await passkeyOptions();
    if (options.ok) setHeldOptions({ options: options.data.options, fetchedAt: Date.now() });
    else if (options.problem.code === "invalid_token") return show(options.problem, false);
    // Not knowing (throttled, offline), the passkey stays on offer and says why when pressed.
    setHasPasskey(options.ok || options.problem.code !== "no_passkeys");
    setNeedsCode(true);
    requestAnimationFrame(() => codeHeadingRef.current?.focus());
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    show(null, false);
    setFailure(null);
    if (!passwordsAgree()) return;
    let proof: SecondFactor | Record<string, never> = {};
    if (needsCode) proof = typedFactor(factor, code);
    setBusy(true);
    const failed = await confirm(proof);
    if (failed?.code === "second_factor_required" && !needsCode) await openSecondFactorStep();
    else if (failed) {
      setCode("");
      show(failed, false);
    }
    setBusy(false);
  }

  /** The browser's dialog for the link's options, then the new password with the passkey's answer. */
  async function confirmWithPasskey() {
    if (busy) return;
    show(null, true);
    setFailure(null);
    // The form's own checks, without the code field the passkey stands in for.
    if (!newRef.current?.reportValidity() || !repeatRef.current?.reportValidity() || !passwordsAgree()) return;
    setBusy(true);
    const held = heldOptions && Date.now() - heldOptions.fetchedAt < HELD_OPTIONS_MS ? heldOptions.options : null;
    setHeldOptions(null);
    let options = held;
    if (!options) {
      const fetched = await passkeyOptions();
      if (!fetched.ok) {
        setBusy(false);
        if (fetched.problem.code === "no_passkeys") setHasPasskey(false);
        return show(fetched.problem, true);
      }
      options = fetched.data.options;
    }
    setInBrowser(true);
    const ceremony = await signWithPasskey(options);
    setInBrowser(false);
    if (!ceremony.ok) {
      setBusy(false);
      setFailure(ceremony.failure);
      return;
    }
    const failed = await confirm({ webauthn: ceremony.credential });
    setBusy(false);
    show(failed, true);
  }

  if (done) {
    return (
      <section className="narrow">
        <h1 tabIndex={-1} ref={doneHeadingRef}>
          {t("reset.done_heading")}
        </h1>
        <p className="alert alert-success" role="status">
          {t("reset.done")}
        </p>
        <p>
          <Link to="/sign-in">{t("reset.sign_in")}</Link>
        </p>
      </section>
    );
  }

  const invalidLink = !token || problem?.code === "invalid_token";

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("reset.heading")}
      </h1>
      {invalidLink ? (
        <>
          <ErrorAlert>{t(token ? "reset.invalid_link" : "reset.no_token")}</ErrorAlert>
          <p>
            <Link to="/forgot-password">{t("reset.new_link")}</Link>
          </p>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <Field
            ref={newRef}
            label={t("reset.new")}
            hint={t("field.new_password_hint")}
            name="new-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={1024}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          {/* The link does not say whose account it is: the meter knows no username here (the server does). */}
          <PasswordStrength password={password} userInputs={[]} />
          <Field
            ref={repeatRef}
            label={t("reset.repeat")}
            name="repeat-password"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.currentTarget.value)}
            aria-invalid={mismatch || undefined}
          />
          {needsCode && (
            <div className="subsection">
              <h2 tabIndex={-1} ref={codeHeadingRef}>
                {t("signin.otp_heading")}
              </h2>
              <p>{t(hasPasskey ? "reset.second_factor_passkey" : "reset.second_factor")}</p>
              {hasPasskey && (
                <div className="passkey-option">
                  {canPasskey ? (
                    <button type="button" className="primary" onClick={() => void confirmWithPasskey()} disabled={busy}>
                      {t("signin.use_passkey")}
                    </button>
                  ) : (
                    <p className="alert alert-warning">{t("reset.passkey_unsupported")}</p>
                  )}
                  <StatusMessage>{inBrowser && t("reauth.follow_browser")}</StatusMessage>
                  <CeremonyNote failure={failure} />
                  <p className="muted">{t("reset.or_code")}</p>
                </div>
              )}
              <SecondFactorField factor={factor} value={code} onChange={setCode} onFactorChange={setFactor} />
            </div>
          )}
          <ErrorAlert>{mismatch && t("reset.mismatch")}</ErrorAlert>
          <ProblemAlert problem={problem} describe={byPasskey ? describePasskeyProblem : undefined} />
          <button type="submit" className={canPasskey ? undefined : "primary"} disabled={busy}>
            {t("reset.submit")}
          </button>
        </form>
      )}
    </section>
  );
}
