import { useState, type FormEvent } from "react";
import type { Problem } from "../api/client";
import { run } from "../api/problems";
import { ProblemAlert } from "../components/Alert";
import { Field } from "../components/Field";
import { Link } from "../components/Layout";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useRouter } from "../hooks/useRouter";

export function SignUpPage() {
  const { client } = useApi();
  const { navigate } = useRouter();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    const result = await run(
      client.POST("/api/v1/auth/register", {
        body: { username: username.trim(), password, email: email.trim() || null },
      }),
    );
    setBusy(false);
    if (result.ok) navigate("/sign-in?registered=1");
    else setProblem(result.problem);
  }

  const fieldError = (name: string) =>
    problem?.field === name || (name === "username" && problem?.code === "username_taken")
      ? "Please check this field."
      : undefined;

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        Create an account
      </h1>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label="Username"
          hint="3 to 64 letters, digits, dots, dashes or underscores."
          name="username"
          autoComplete="username"
          required
          minLength={3}
          maxLength={64}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          error={fieldError("username")}
        />
        <Field
          label="Email (optional)"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError("email")}
        />
        <Field
          label="Password"
          hint="At least 8 characters."
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError("password")}
        />
        <ProblemAlert problem={problem} />
        <button type="submit" className="primary" disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Log in</Link>
      </p>
    </section>
  );
}
