import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { run } from "../api/problems";
import type { Problem } from "../api/types";
import { ErrorAlert, ProblemAlert, StatusMessage } from "../components/Alert";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { useT } from "../i18n";

type Outcome =
  | { kind: "verifying" }
  | { kind: "verified"; email: string }
  | { kind: "invalid" }
  | { kind: "failed"; problem: Problem };

/**
 * Where the mailed link lands: confirms the address once on load (the link is single use, so a
 * second request would only say "used"), then points to Account Settings or to sign-in.
 */
export function VerifyEmailPage() {
  const t = useT();
  const { client } = useApi();
  const { state, accountChanged } = useSession();
  const [search] = useSearchParams();
  const token = search.get("token") ?? "";
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [outcome, setOutcome] = useState<Outcome>(token ? { kind: "verifying" } : { kind: "invalid" });
  // React's development double effect (and a re-render) must not spend the link twice.
  const sentFor = useRef<string | null>(null);

  useEffect(() => {
    if (!token || sentFor.current === token) return;
    sentFor.current = token;
    void run(client.POST("/api/v1/auth/email/verify", { body: { token } })).then((result) => {
      if (result.ok) {
        setOutcome({ kind: "verified", email: result.data.email });
        void accountChanged();
      } else if (result.problem.code === "invalid_token") setOutcome({ kind: "invalid" });
      else setOutcome({ kind: "failed", problem: result.problem });
    });
  }, [token, client, accountChanged]);

  const signedIn = state.status === "signed-in";

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("verify.heading")}
      </h1>
      <StatusMessage>
        {outcome.kind === "verifying" && t("verify.working")}
        {outcome.kind === "verified" && t("verify.done", { email: outcome.email })}
      </StatusMessage>
      <ErrorAlert>{outcome.kind === "invalid" && t("verify.invalid")}</ErrorAlert>
      <ProblemAlert problem={outcome.kind === "failed" ? outcome.problem : null} />
      {outcome.kind !== "verifying" && (
        <p>
          {signedIn ? (
            <Link to="/account">{t("verify.to_account")}</Link>
          ) : (
            <Link to="/sign-in">{t("verify.to_sign_in")}</Link>
          )}
        </p>
      )}
    </section>
  );
}
