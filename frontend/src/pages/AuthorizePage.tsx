import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent, type ReactNode, type RefObject } from "react";
import { Link, useSearchParams } from "react-router";
import { useInvalidate } from "../api/mutation";
import { useApi } from "../api/context";
import { useApproveAuthorizationRequest, useDenyAuthorizationRequest } from "../api/oidc";
import { usePasskeyProofOptions } from "../api/passkeys";
import { settle, toProblem } from "../api/problems";
import { accountQuery, authorizationRequestQuery } from "../api/queries";
import type { Account, AppProblemCode, Language, Problem, Schemas } from "../api/types";
import { signWithPasskey, webAuthnAvailable, type CeremonyFailure } from "../api/webauthn";
import { ErrorAlert, ProblemAlert, StatusMessage } from "../components/Alert";
import { AppScopes } from "../components/AppScopes";
import { CeremonyNote } from "../components/CeremonyNote";
import { describePasskeyProblem } from "../components/ReauthPrompt";
import { SecondFactorField, typedFactor } from "../components/SecondFactorField";
import { LANGUAGES, useLocale, useT, type MessageId } from "../i18n";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { leaveTo } from "../navigation";
import { SignInPage } from "./SignInPage";

type View = Schemas["AuthorizationRequestView"];
type Next = View["next"];
type Approval = Schemas["ApproveAuthorizationRequest"];
/** What proves a step-up: a six-digit code or a passkey's answer (a recovery code does not count). */
type StepUpProof = Pick<Approval, "code"> | Pick<Approval, "webauthn">;

/**
 * An app's sign-in request (OpenID Connect), reached from `/oauth2/authorize` as
 * `/authorize?request=<id>`. The server says what this caller must do next; the page does it,
 * then sends the browser back to the app with what the server answered (a code or an error).
 */
export function AuthorizePage() {
  const [search] = useSearchParams();
  const requestId = search.get("request");
  if (!requestId) return <RequestGone />;
  return <AuthorizationRequest key={requestId} requestId={requestId} />;
}

/** The first of the app's `ui_locales` this SPA speaks, if any. */
export function requestedLanguage(uiLocales: string | null | undefined): Language | null {
  for (const tag of uiLocales?.split(/\s+/) ?? []) {
    const base = tag.toLowerCase().split("-")[0] ?? "";
    if ((LANGUAGES as string[]).includes(base)) return base as Language;
  }
  return null;
}

/** The app's language wish, once per page, unless the customer chose a language on their account. */
function useLanguageOfRequest(request: View | undefined, chosen: Language | null, applied: RefObject<boolean>) {
  const { setLanguage } = useLocale();
  useEffect(() => {
    if (!request || applied.current) return;
    applied.current = true;
    const wanted = requestedLanguage(request.ui_locales);
    if (!chosen && wanted) setLanguage(wanted);
  }, [request, chosen, setLanguage, applied]);
}

/** Waits for the session, then shows the request to whoever is signed in (anew for each caller). */
function AuthorizationRequest({ requestId }: { requestId: string }) {
  const { state } = useSession();
  const languageApplied = useRef(false);
  if (state.status === "unavailable") return <RequestFailed problem={state.problem} retry={state.retry} />;
  if (state.status === "loading") return <Loading />;
  const account = state.status === "signed-in" ? state.account : null;
  return (
    <RequestForCaller key={account?.id ?? ""} requestId={requestId} account={account} languageApplied={languageApplied} />
  );
}

/**
 * The request as the server decides it for this caller. Mounted anew when someone signs in on the
 * page (or comes back from the two-factor set-up), so it is read again, never shown stale.
 */
function RequestForCaller(props: { requestId: string; account: Account | null; languageApplied: RefObject<boolean> }) {
  const { requestId, account } = props;
  const { $api } = useApi();
  const view = useQuery({ ...authorizationRequestQuery($api, requestId), gcTime: 0 });
  useLanguageOfRequest(view.data, account?.language ?? null, props.languageApplied);

  if (view.isFetching) return <Loading />;
  if (view.error) {
    const problem = toProblem(view.error);
    if (problem.code === "not_found") return <RequestGone />;
    return <RequestFailed problem={problem} retry={() => void view.refetch()} />;
  }
  if (!view.data) return <Loading />;
  if (view.data.prompt === "none") return <Silent requestId={requestId} signedIn={account !== null} />;
  return (
    <Interaction
      requestId={requestId}
      request={view.data}
      account={account}
      words={{ app: view.data.client.name }}
      refetch={() => void view.refetch()}
    />
  );
}

function Loading() {
  const t = useT();
  return (
    <p role="status" className="loading">
      {t("common.loading")}
    </p>
  );
}

/** The page's heading, focused when the step appears, and the tab's title. */
function StepHeading({ children }: { children: string }) {
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(children);
  return (
    <h1 tabIndex={-1} ref={headingRef}>
      {children}
    </h1>
  );
}

/** Unknown, expired or already answered: only the app can start a new request. */
function RequestGone() {
  const t = useT();
  return (
    <section className="narrow">
      <StepHeading>{t("authorize.gone_heading")}</StepHeading>
      <ErrorAlert>{t("authorize.gone_body")}</ErrorAlert>
      <p>
        <Link to="/account">{t("authorize.to_account")}</Link>
      </p>
    </section>
  );
}

function RequestFailed({ problem, retry }: { problem: Problem; retry: () => void }) {
  const t = useT();
  return (
    <section className="narrow">
      <StepHeading>{t("authorize.heading")}</StepHeading>
      <ProblemAlert problem={problem} />
      <button type="button" className="primary" onClick={retry}>
        {t("unavailable.retry")}
      </button>
    </section>
  );
}

/**
 * `prompt=none`: the app asked for no page at all. Signed in, the server decides (a code, or an
 * error such as consent_required); signed out, the app learns so. Only a failure is shown.
 */
function Silent({ requestId, signedIn }: { requestId: string; signedIn: boolean }) {
  const { mutateAsync: approve } = useApproveAuthorizationRequest();
  const { mutateAsync: deny } = useDenyAuthorizationRequest();
  const [problem, setProblem] = useState<Problem | null>(null);
  // One answer per request, also when the effect runs again.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    const answer = signedIn
      ? approve({ requestId, body: { consent: false } })
      : deny({ requestId, body: { reason: "no_session" } });
    void settle(answer).then((result) => (result.ok ? leaveTo(result.data.redirect_to) : setProblem(result.problem)));
  }, [approve, deny, requestId, signedIn]);

  if (!problem) return <Loading />;
  if (problem.code === "not_found") return <RequestGone />;
  return <SilentFailed problem={problem} />;
}

function SilentFailed({ problem }: { problem: Problem }) {
  const t = useT();
  return (
    <section className="narrow">
      <StepHeading>{t("authorize.heading")}</StepHeading>
      <ProblemAlert problem={problem} />
    </section>
  );
}

type Words = { app: string };

/**
 * What the server's refusal of an approval asks for, whatever the view said: consent, a step-up,
 * a newer sign-in (prompt=login, max_age), or a second factor the account lacks.
 */
const STEP_AFTER: Partial<Record<AppProblemCode, Next>> = {
  consent_required: "consent",
  step_up_required: "step_up",
  reauthentication_required: "sign_in",
  two_factor_required: "set_up_two_factor",
};

type InteractionProps = {
  requestId: string;
  request: View;
  account: Account | null;
  words: Words;
  refetch: () => void;
};

/** Every `next` but prompt=none: one step on screen at a time, one problem shown with it. */
function Interaction({ requestId, request, account, words, refetch }: InteractionProps) {
  const t = useT();
  const { $api } = useApi();
  const invalidate = useInvalidate();
  const { signOut } = useSession();
  const approve = useApproveAuthorizationRequest();
  const deny = useDenyAuthorizationRequest();
  // The server may ask for more than the view said (its answer wins): consent, or a step-up.
  const [asked, setAsked] = useState<Next | null>(null);
  const [consentAsked, setConsentAsked] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [leaving, setLeaving] = useState(false);
  // A step-up is for a session; without one (signed out in another tab) sign-in comes first.
  const wanted = asked ?? request.next;
  const step = wanted === "step_up" && !account ? "sign_in" : wanted;
  const consentNeeded = consentAsked || request.next === "consent" || !request.consent_remembered || request.prompt === "consent";
  const busy = approve.isPending || deny.isPending || leaving;

  async function send(body: Approval): Promise<Problem | null> {
    setProblem(null);
    const result = await settle(approve.mutateAsync({ requestId, body }));
    if (result.ok) {
      setLeaving(true);
      leaveTo(result.data.redirect_to);
      return null;
    }
    const failed = result.problem;
    const then = STEP_AFTER[failed.code];
    if (then === "consent") setConsentAsked(true);
    if (then) setAsked(then);
    setProblem(failed);
    return failed;
  }

  async function refuse() {
    if (busy) return;
    setProblem(null);
    const result = await settle(deny.mutateAsync({ requestId, body: { reason: "denied" } }));
    if (result.ok) {
      setLeaving(true);
      leaveTo(result.data.redirect_to);
    } else setProblem(result.problem);
  }

  /**
   * A new sign-in on this page. From signed out, the request is read again once the account is
   * known (the page mounts anew for it); over a session (prompt=login) the account may be another
   * one, so both are read again.
   */
  function signedIn() {
    if (!account) return;
    void invalidate(accountQuery($api));
    refetch();
  }

  if (problem?.code === "not_found") return <RequestGone />;
  if (leaving) return <Leaving words={words} />;

  const denyButton = (
    <button type="button" onClick={() => void refuse()} disabled={busy}>
      {t("authorize.deny")}
    </button>
  );

  switch (step) {
    case "sign_in":
      return (
        <SignInPage
          username={request.login_hint ?? account?.username ?? ""}
          notice={t("authorize.sign_in_notice", words)}
          onSignedIn={signedIn}
        />
      );
    case "ready":
      return <ApproveAtOnce words={words} problem={problem} onApprove={() => void send({ consent: false })} deny={denyButton} />;
    case "consent":
      return (
        <section className="narrow">
          <StepHeading>{t("authorize.consent_heading", words)}</StepHeading>
          <Consent request={request} account={account} words={words} onSwitchAccount={() => void signOut()} />
          <ProblemAlert problem={problem} />
          <div className="actions">
            <button type="button" className="primary" onClick={() => void send({ consent: true })} disabled={busy}>
              {t("authorize.allow")}
            </button>
            {denyButton}
          </div>
        </section>
      );
    case "step_up":
      return (
        account && (
          <StepUp
            request={request}
            account={account}
            words={words}
            consentNeeded={consentNeeded}
            problem={problem}
            busy={busy}
            onProof={(proof) => send({ consent: consentNeeded, ...proof })}
            deny={denyButton}
          />
        )
      );
    case "set_up_two_factor":
      return <SetUpTwoFactor requestId={requestId} words={words} problem={problem} deny={denyButton} />;
  }
}

/** Nothing to ask: the app gets its answer at once; a failure is shown with a retry. */
function ApproveAtOnce(props: { words: Words; problem: Problem | null; onApprove: () => void; deny: ReactNode }) {
  const t = useT();
  const { onApprove } = props;
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    onApprove();
  }, [onApprove]);

  if (!props.problem) return <Leaving words={props.words} />;
  return (
    <section className="narrow">
      <StepHeading>{t("authorize.heading")}</StepHeading>
      <ProblemAlert problem={props.problem} />
      <div className="actions">
        <button type="button" className="primary" onClick={onApprove}>
          {t("unavailable.retry")}
        </button>
        {props.deny}
      </div>
    </section>
  );
}

function Leaving({ words }: { words: Words }) {
  const t = useT();
  return (
    <p role="status" className="loading">
      {t("authorize.returning", words)}
    </p>
  );
}

/** What the app will see, line by line, and who is signed in here. */
function Consent(props: { request: View; account: Account | null; words: Words; onSwitchAccount: () => void }) {
  const t = useT();
  return (
    <div className="panel consent">
      <p id="consent-scopes">{t("authorize.consent_intro", props.words)}</p>
      <AppScopes scopes={props.request.scopes} labelledBy="consent-scopes" />
      <p className="muted">{t("authorize.consent_revoke")}</p>
      {props.account && (
        <p>
          {t("authorize.signed_in_as", { username: props.account.username })}{" "}
          <button type="button" className="link-button" onClick={props.onSwitchAccount}>
            {t("authorize.switch_account")}
          </button>
        </p>
      )}
    </div>
  );
}

/** Why the app wants a second factor now, and how this account can give it. */
function stepUpExplanation(passkeyOnly: boolean, code: boolean, passkey: boolean): MessageId {
  if (passkeyOnly) return "authorize.step_up_passkey_only";
  if (code && passkey) return "authorize.step_up_passkey_or_code";
  return passkey ? "authorize.step_up_passkey" : "authorize.step_up_code";
}

/**
 * The app needs a stronger sign-in than this session's: a six-digit code or a passkey (a security
 * key only, when it asks for hardware). Sent with the approval; consent is asked on the same page.
 */
function StepUp(props: {
  request: View;
  account: Account;
  words: Words;
  consentNeeded: boolean;
  problem: Problem | null;
  busy: boolean;
  onProof: (proof: StepUpProof) => Promise<Problem | null>;
  deny: ReactNode;
}) {
  const t = useT();
  const passkeyOptions = usePasskeyProofOptions();
  const fieldRef = useRef<HTMLInputElement>(null);
  const methods = props.account.two_factor.methods;
  const passkeyOnly = props.request.acr_required === "hwk";
  const hasCode = !passkeyOnly && methods.includes("totp");
  const hasPasskey = passkeyOnly || methods.includes("webauthn");
  const canPasskey = hasPasskey && webAuthnAvailable();
  const [code, setCode] = useState("");
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);
  // A problem of the passkey's own (its options), and whether the page's problem answered a passkey.
  const [passkeyProblem, setPasskeyProblem] = useState<Problem | null>(null);
  const [byPasskey, setByPasskey] = useState(false);
  const [inBrowser, setInBrowser] = useState(false);
  const [working, setWorking] = useState(false);
  const busy = props.busy || working;
  const shown = passkeyProblem ?? props.problem;

  async function submitCode(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setFailure(null);
    setPasskeyProblem(null);
    setByPasskey(false);
    const failed = await props.onProof(typedFactor("code", code) as { code: string });
    setCode("");
    if (failed) fieldRef.current?.focus();
  }

  async function proveWithPasskey() {
    if (busy) return;
    setWorking(true);
    setFailure(null);
    setPasskeyProblem(null);
    setByPasskey(true);
    const options = await settle(passkeyOptions.mutateAsync());
    if (!options.ok) {
      setWorking(false);
      setPasskeyProblem(options.problem);
      return;
    }
    setInBrowser(true);
    const ceremony = await signWithPasskey(options.data.options);
    setInBrowser(false);
    if (!ceremony.ok) {
      setWorking(false);
      setFailure(ceremony.failure);
      return;
    }
    setWorking(false);
    await props.onProof({ webauthn: ceremony.credential });
  }

  return (
    <section className="narrow">
      <StepHeading>{t("authorize.step_up_heading", props.words)}</StepHeading>
      <p>{t(stepUpExplanation(passkeyOnly, hasCode, hasPasskey), props.words)}</p>
      {props.consentNeeded && (
        <div className="panel consent">
          <p id="consent-scopes">{t("authorize.step_up_consent", props.words)}</p>
          <AppScopes scopes={props.request.scopes} labelledBy="consent-scopes" />
          <p className="muted">{t("authorize.consent_revoke")}</p>
        </div>
      )}
      {hasPasskey && (
        <div className="passkey-option">
          {canPasskey ? (
            <button type="button" className="primary" onClick={() => void proveWithPasskey()} disabled={busy}>
              {t(props.consentNeeded ? "authorize.allow_with_passkey" : "reauth.use_passkey")}
            </button>
          ) : (
            <p className="alert alert-warning">
              {t(hasCode ? "reauth.passkey_unsupported" : "authorize.passkey_unsupported", props.words)}
            </p>
          )}
          <StatusMessage>{inBrowser && t("reauth.follow_browser")}</StatusMessage>
          <CeremonyNote failure={failure} />
          {hasCode && <p className="muted">{t("authorize.or_code")}</p>}
        </div>
      )}
      {hasCode ? (
        <form onSubmit={(e) => void submitCode(e)}>
          <SecondFactorField ref={fieldRef} factor="code" value={code} onChange={setCode} words="confirm" />
          <ProblemAlert problem={shown} describe={byPasskey ? describePasskeyProblem : undefined} />
          <div className="actions">
            <button type="submit" className={canPasskey ? undefined : "primary"} disabled={busy}>
              {t(props.consentNeeded ? "authorize.allow_and_continue" : "authorize.continue")}
            </button>
            {props.deny}
          </div>
        </form>
      ) : (
        <>
          <ProblemAlert problem={shown} describe={byPasskey ? describePasskeyProblem : undefined} />
          <div className="actions">{props.deny}</div>
        </>
      )}
      <p className="muted">{t("authorize.no_recovery_code")}</p>
    </section>
  );
}

/** The app needs a second factor this account does not have yet: set one up and come back. */
function SetUpTwoFactor(props: { requestId: string; words: Words; problem: Problem | null; deny: ReactNode }) {
  const t = useT();
  const here = `/authorize?request=${encodeURIComponent(props.requestId)}`;
  return (
    <section className="narrow">
      <StepHeading>{t("authorize.set_up_heading", props.words)}</StepHeading>
      <p>{t("authorize.set_up_explain", props.words)}</p>
      <p>
        <Link to={`/two-factor-setup?return=${encodeURIComponent(here)}`}>{t("authorize.set_up_link")}</Link>
      </p>
      <ProblemAlert problem={props.problem} />
      <div className="actions">{props.deny}</div>
    </section>
  );
}
