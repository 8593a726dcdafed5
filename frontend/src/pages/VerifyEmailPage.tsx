import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { useVerifyEmail } from "../api/email";
import type { Problem } from "../api/types";
import { ErrorAlert, ProblemAlert, StatusMessage } from "../components/Alert";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { useT } from "../i18n";

type Outcome =
  | { kind: "verifying" }
  | { kind: "verified"; email: string }
  | { kind: "invalid" }
  | { kind: "failed"; problem: Problem };

function outcomeOf(token: string, verify: ReturnType<typeof useVerifyEmail>): Outcome {
  if (!token || verify.error?.code === "invalid_token") return { kind: "invalid" };
  if (verify.error) return { kind: "failed", problem: verify.error };
  if (verify.data) return { kind: "verified", email: verify.data.email };
  return { kind: "verifying" };
}

/**
 * Where the mailed link lands: confirms the address once on load (the link is single use, so a
 * second request would only say "used"), then points to Account Settings or to sign-in.
 */
export function VerifyEmailPage() {
  const t = useT();
  const { state } = useSession();
  const verify = useVerifyEmail();
  const { mutate } = verify;
  const [search] = useSearchParams();
  const token = search.get("token") ?? "";
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("verify.heading"));
  const outcome = outcomeOf(token, verify);
  // A second run of the effect (or a re-render) must not spend the link twice.
  const sentFor = useRef<string | null>(null);

  useEffect(() => {
    if (!token || sentFor.current === token) return;
    sentFor.current = token;
    mutate(token);
  }, [token, mutate]);

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
