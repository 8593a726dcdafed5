import { useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../api/client";
import { run } from "../api/problems";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { Field } from "../components/Field";
import { Link } from "../components/Layout";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { usePublicSettings } from "../hooks/usePublicSettings";
import { useRouter } from "../hooks/useRouter";
import { useSession } from "../hooks/useSession";

type Step = { kind: "password" } | { kind: "otp"; challenge: string };

/** Answers to the code step after which the challenge is dead: only the password step can go on. */
const DEAD_CHALLENGE = ["invalid_challenge", "challenge_exhausted"];

export function SignInPage() {
  const { client } = useApi();
  const { signIn, state } = useSession();
  const { search, navigate } = useRouter();
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [problem, setProblem] = useState<Problem | null>(null);
  // Kept so that going back to the password step asks only for the password again.
  const [username, setUsername] = useState("");

  const next = safeNext(search.get("next"));
  const notice = sessionNotice(search, state.status === "signed-out" && state.expired);

  async function finish(tokens: Schemas["AuthenticatedResponse"]) {
    if (await signIn(tokens)) navigate(next, { replace: true });
  }

  async function submitPassword(name: string, password: string) {
    setProblem(null);
    setUsername(name);
    const result = await run(client.POST("/api/v1/auth/login", { body: { username: name, password } }));
    if (!result.ok) return setProblem(result.problem);
    if (result.data.status === "otp_required") {
      setStep({ kind: "otp", challenge: result.data.challenge_token });
    } else {
      await finish(result.data);
    }
  }

  async function submitSecondFactor(proof: { code: string } | { recovery_code: string }) {
    if (step.kind !== "otp") return;
    setProblem(null);
    const result = await run(
      client.POST("/api/v1/auth/otp", { body: { challenge_token: step.challenge, ...proof } }),
    );
    if (result.ok) return finish(result.data);
    if (DEAD_CHALLENGE.includes(result.problem.code)) setStep({ kind: "password" });
    setProblem(result.problem);
  }

  return step.kind === "password" ? (
    <PasswordStep notice={notice} problem={problem} username={username} onSubmit={submitPassword} />
  ) : (
    <SecondFactorStep
      problem={problem}
      onSubmit={submitSecondFactor}
      onStartOver={() => {
        setProblem(null);
        setStep({ kind: "password" });
      }}
    />
  );
}

/** Only same-site paths are followed after sign-in. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/account";
}

function sessionNotice(search: URLSearchParams, expired: boolean): string {
  if (search.has("signed-out")) return "You have signed out.";
  if (search.has("registered")) return "Your account has been created. Please log in.";
  if (expired || search.has("next")) return "Please log in to continue.";
  return "";
}

function PasswordStep(props: {
  notice: string;
  problem: Problem | null;
  username: string;
  onSubmit: (username: string, password: string) => Promise<void>;
}) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const settings = usePublicSettings();
  const [username, setUsername] = useState(props.username);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    await props.onSubmit(username.trim(), password);
    setBusy(false);
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        Log in
      </h1>
      <StatusMessage>{props.notice}</StatusMessage>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ProblemAlert problem={props.problem} />
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
      </form>
      {settings?.signup_enabled && (
        <p>
          New here? <Link to="/sign-up">Create an account</Link>
        </p>
      )}
    </section>
  );
}

function SecondFactorStep(props: {
  problem: Problem | null;
  onSubmit: (proof: { code: string } | { recovery_code: string }) => Promise<void>;
  onStartOver: () => void;
}) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [useRecovery, setUseRecovery] = useState(false);
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const entered = value.trim();
    await props.onSubmit(useRecovery ? { recovery_code: entered } : { code: entered.replace(/\s/g, "") });
    setBusy(false);
    setValue("");
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        Two-factor authentication
      </h1>
      <form onSubmit={(e) => void submit(e)}>
        {useRecovery ? (
          <Field
            key="recovery"
            label="Recovery code"
            hint="One of the recovery codes you saved, like abcde-fghij."
            name="recovery_code"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        ) : (
          <Field
            key="code"
            label="Six-digit code"
            hint="Open your OTP application and enter the six-digit code it shows for custadmin."
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="\s*[0-9]{3}\s*[0-9]{3}\s*"
            maxLength={8}
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        )}
        <div className="checkbox">
          <input
            id="use-recovery"
            type="checkbox"
            checked={useRecovery}
            onChange={(e) => {
              setUseRecovery(e.target.checked);
              setValue("");
            }}
          />
          <label htmlFor="use-recovery">Use a recovery code instead</label>
        </div>
        <ProblemAlert problem={props.problem} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Log in
          </button>
          <button type="button" onClick={props.onStartOver}>
            Start over
          </button>
        </div>
      </form>
      <p className="hint-box">
        Lost your phone or OTP application, and your recovery codes? Please contact customer support: after
        checking who you are, they can switch off two-factor authentication for you.
      </p>
    </section>
  );
}
