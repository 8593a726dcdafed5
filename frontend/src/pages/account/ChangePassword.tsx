import { useState, type FormEvent } from "react";
import type { Problem } from "../../api/client";
import { run } from "../../api/problems";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { Field } from "../../components/Field";
import { useApi } from "../../hooks/useApi";

export function ChangePassword() {
  const { client } = useApi();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setMessage("");
    setBusy(true);
    const result = await run(
      client.POST("/api/v1/account/password", { body: { current_password: current, new_password: next } }),
    );
    setBusy(false);
    if (!result.ok) return setProblem(result.problem);
    setCurrent("");
    setNext("");
    setMessage("Your password has been changed. Other devices have been signed out.");
  }

  return (
    <section className="panel" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <Field
          label="New password"
          hint="At least 8 characters."
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <ProblemAlert problem={problem} />
        <StatusMessage>{message}</StatusMessage>
        <button type="submit" className="primary" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}
