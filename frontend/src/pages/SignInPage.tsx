import { useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import {
  useLogin,
  usePasswordlessOptions,
  usePasswordlessSignIn,
  useSecondFactor,
  useSecondFactorPasskeyOptions,
} from "../api/auth";
import { settle } from "../api/problems";
import type { AppProblemCode, Problem, Schemas } from "../api/types";
import { signWithPasskey, webAuthnAvailable, type CeremonyFailure } from "../api/webauthn";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { CeremonyNote } from "../components/CeremonyNote";
import { Field } from "../components/Field";
import { SecondFactorField, typedFactor, type TypedFactor } from "../components/SecondFactorField";
import { SupportContact } from "../components/SupportContact";
import { useT, type MessageId } from "../i18n";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { usePublicSettings } from "../hooks/usePublicSettings";
import { useSession } from "../hooks/useSession";

type Method = Schemas["SecondFactorMethod"];
type Step = { kind: "password" } | { kind: "otp"; challenge: string; methods: Method[] };
type SecondFactor = ({ code: string } | { recovery_code: string } | { webauthn: Record<string, never> }) & {
  remember_device?: true;
};
/** Where a step ended: a problem from the server, a browser dialog that did not finish, or success. */
type Outcome = { problem: Problem } | { failure: CeremonyFailure } | null;

/** Answers to the code step after which the challenge is dead: only the password step can go on. */
const DEAD_CHALLENGE: AppProblemCode[] = ["invalid_challenge", "challenge_exhausted"];

type SignInPageProps = {
  /** The username to start with (an app's `login_hint`); the customer may change it. */
  username?: string;
  /** Why they are asked to log in, instead of what the URL says (an app's sign-in request). */
  notice?: string;
  /** Called once the session is here, for a page that stays where it is (an app's sign-in request). */
  onSignedIn?: () => void;
};

/**
 * Password, then a code or a passkey (or a passkey alone). On its route, the route's guard goes
 * on to `next` once the account is known; an app's sign-in request shows it in place.
 */
export function SignInPage({ username: initialUsername = "", notice: givenNotice, onSignedIn }: SignInPageProps = {}) {
  const t = useT();
  const login = useLogin();
  const secondFactor = useSecondFactor();
  const secondFactorOptions = useSecondFactorPasskeyOptions();
  const passwordlessOptions = usePasswordlessOptions();
  const passwordless = usePasswordlessSignIn();
  const { signIn, state } = useSession();
  const [search] = useSearchParams();
  const [step, setStep] = useState<Step>({ kind: "password" });
  // One alert for the steps: a dead challenge's problem is shown on the password step it led back to.
  const [problem, setProblem] = useState<Problem | null>(null);
  // Kept so that going back to the password step asks only for the password again.
  const [username, setUsername] = useState(initialUsername);

  const noticeId = sessionNotice(search, state.status === "signed-out" && state.expired);
  const notice = givenNotice ?? (noticeId && t(noticeId));

  function signedIn(tokens: Schemas["AuthenticatedResponse"]) {
    signIn(tokens);
    onSignedIn?.();
  }

  async function submitPassword(name: string, password: string) {
    setProblem(null);
    setUsername(name);
    const result = await settle(login.mutateAsync({ username: name, password }));
    if (!result.ok) return setProblem(result.problem);
    if (result.data.status === "otp_required")
      setStep({ kind: "otp", challenge: result.data.challenge_token, methods: result.data.methods });
    // The sign-in route follows `next` once the account is known.
    else signedIn(result.data);
  }

  async function submitSecondFactor(proof: SecondFactor): Promise<Problem | null> {
    if (step.kind !== "otp") return null;
    setProblem(null);
    const result = await settle(secondFactor.mutateAsync({ challenge_token: step.challenge, ...proof }));
    if (result.ok) {
      signedIn(result.data as Schemas["AuthenticatedResponse"]);
      return null;
    }
    if (DEAD_CHALLENGE.includes(result.problem.code)) setStep({ kind: "password" });
    setProblem(result.problem);
    return result.problem;
  }

  /** Signs the challenge with a passkey in the browser's dialog, then finishes like a code. */
  async function submitPasskey(rememberDevice: boolean): Promise<Outcome> {
    if (step.kind !== "otp") return null;
    setProblem(null);
    const options = await settle(secondFactorOptions.mutateAsync(step.challenge));
    if (!options.ok) {
      if (DEAD_CHALLENGE.includes(options.problem.code)) setStep({ kind: "password" });
      setProblem(options.problem);
      return { problem: options.problem };
    }
    const ceremony = await signWithPasskey(options.data.options);
    if (!ceremony.ok) return { failure: ceremony.failure };
    const failed = await submitSecondFactor({
      webauthn: ceremony.credential,
      ...(rememberDevice ? { remember_device: true as const } : {}),
    });
    return failed && { problem: failed };
  }

  /** Sign-in with a passkey alone: no username, no password. */
  async function submitPasswordless(): Promise<CeremonyFailure | null> {
    setProblem(null);
    const options = await settle(passwordlessOptions.mutateAsync());
    if (!options.ok) {
      setProblem(options.problem);
      return null;
    }
    const ceremony = await signWithPasskey(options.data.options);
    if (!ceremony.ok) return ceremony.failure;
    const result = await settle(
      passwordless.mutateAsync({ state_token: options.data.state_token, credential: ceremony.credential }),
    );
    if (result.ok) signedIn(result.data);
    else setProblem(result.problem);
    return null;
  }

  return step.kind === "password" ? (
    <PasswordStep
      notice={notice}
      problem={problem}
      username={username}
      onSubmit={submitPassword}
      onPasskey={submitPasswordless}
    />
  ) : (
    <SecondFactorStep
      methods={step.methods}
      problem={problem}
      onSubmit={submitSecondFactor}
      onPasskey={submitPasskey}
      onStartOver={() => {
        setProblem(null);
        setStep({ kind: "password" });
      }}
    />
  );
}

function sessionNotice(search: URLSearchParams, expired: boolean): MessageId | null {
  if (search.has("signed-out")) return "signin.signed_out";
  if (search.has("registered")) return "signin.registered";
  if (expired || search.has("next")) return "signin.continue";
  return null;
}

function PasswordStep(props: {
  notice: string | null;
  problem: Problem | null;
  username: string;
  onSubmit: (username: string, password: string) => Promise<void>;
  onPasskey: () => Promise<CeremonyFailure | null>;
}) {
  const t = useT();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("signin.heading"));
  const settings = usePublicSettings();
  const [username, setUsername] = useState(props.username);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setFailure(null);
    await props.onSubmit(username.trim(), password);
    setBusy(false);
  }

  async function passkey() {
    if (busy) return;
    setBusy(true);
    setFailure(null);
    setFailure(await props.onPasskey());
    setBusy(false);
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("signin.heading")}
      </h1>
      <StatusMessage>{props.notice}</StatusMessage>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label={t("field.username")}
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
        />
        <Field
          label={t("field.password")}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <ProblemAlert problem={props.problem} />
        {props.problem?.code === "password_sign_in_blocked" && (
          <p>
            <Link to="/forgot-password">{t("signin.blocked_reset")}</Link>
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t("signin.submit")}
        </button>
      </form>
      {webAuthnAvailable() && (
        <div className="passkey-option">
          <p className="muted">{t("signin.or")}</p>
          <button type="button" onClick={() => void passkey()} disabled={busy}>
            {t("signin.passkey")}
          </button>
          <CeremonyNote failure={failure} />
        </div>
      )}
      <p>
        <Link to="/forgot-password">{t("signin.forgot")}</Link>
      </p>
      {settings?.signup_enabled && (
        <p>
          {t("signin.new_here")} <Link to="/sign-up">{t("signin.create_account")}</Link>
        </p>
      )}
    </section>
  );
}

function SecondFactorStep(props: {
  methods: Method[];
  problem: Problem | null;
  onSubmit: (proof: SecondFactor) => Promise<Problem | null>;
  onPasskey: (rememberDevice: boolean) => Promise<Outcome>;
  onStartOver: () => void;
}) {
  const t = useT();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("signin.otp_heading"));
  const fieldRef = useRef<HTMLInputElement>(null);
  // An account with passkeys only has no six-digit code: its fallback is a recovery code.
  const hasTotp = props.methods.includes("totp");
  const hasPasskey = props.methods.includes("webauthn");
  const canPasskey = hasPasskey && webAuthnAvailable();
  const [factor, setFactor] = useState<TypedFactor>(hasTotp ? "code" : "recovery_code");
  const [rememberDevice, setRememberDevice] = useState(false);
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);

  async function passkey() {
    if (busy) return;
    setBusy(true);
    setFailure(null);
    const outcome = await props.onPasskey(rememberDevice);
    setBusy(false);
    if (outcome && "failure" in outcome) setFailure(outcome.failure);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setFailure(null);
    // Sent only when ticked: the server's default is to ask for the code every time.
    const proof: SecondFactor = { ...typedFactor(factor, value), ...(rememberDevice ? { remember_device: true } : {}) };
    const failed = await props.onSubmit(proof);
    setBusy(false);
    setValue("");
    // A wrong code: straight back to the field for the next try (gone when the step ended).
    if (failed) fieldRef.current?.focus();
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("signin.otp_heading")}
      </h1>
      {hasPasskey && (
        <div className="passkey-option">
          {canPasskey ? (
            <>
              <p>{t("signin.passkey_explain")}</p>
              <button type="button" className="primary" onClick={() => void passkey()} disabled={busy}>
                {t("signin.use_passkey")}
              </button>
            </>
          ) : (
            <p className="alert alert-warning">{t("signin.passkey_unsupported")}</p>
          )}
          <CeremonyNote failure={failure} />
          <p className="muted">{t(hasTotp ? "signin.or_code" : "signin.or_recovery_code")}</p>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <SecondFactorField
          ref={fieldRef}
          factor={factor}
          value={value}
          onChange={setValue}
          onFactorChange={hasTotp ? setFactor : undefined}
        />
        <div className="checkbox">
          <input
            id="remember-device"
            type="checkbox"
            aria-describedby="remember-device-hint"
            checked={rememberDevice}
            onChange={(e) => setRememberDevice(e.currentTarget.checked)}
          />
          <div>
            <label htmlFor="remember-device">{t("signin.remember_device")}</label>
            <p className="hint" id="remember-device-hint">
              {t("signin.remember_device_hint")}
            </p>
          </div>
        </div>
        <ProblemAlert problem={props.problem} />
        <div className="actions">
          <button type="submit" className={canPasskey ? undefined : "primary"} disabled={busy}>
            {t("signin.submit")}
          </button>
          <button type="button" onClick={props.onStartOver}>
            {t("signin.start_over")}
          </button>
        </div>
      </form>
      <SupportContact />
    </section>
  );
}
