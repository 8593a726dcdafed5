import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { IntlShape } from "react-intl";
import { Link } from "react-router";
import { useAccountChanged } from "../api/account";
import { useApi } from "../api/context";
import { toProblem } from "../api/problems";
import { customerAppsQuery, customerSearchQuery } from "../api/queries";
import {
  useLiftCustomerTwoFactorRequirement,
  useRequireCustomerTwoFactor,
  useResetCustomerTwoFactor,
  useUnlockCustomer,
} from "../api/support";
import type { Problem, Schemas } from "../api/types";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ConnectedAppList } from "../components/ConnectedAppList";
import { Field } from "../components/Field";
import { ReauthPrompt } from "../components/ReauthPrompt";
import { SecurityEventList } from "../components/SecurityEventList";
import { useT, type MessageId } from "../i18n";
import { problemMessage, retryAdvice } from "../i18n/problems";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { usePrivileged } from "../hooks/usePrivileged";
import { useSecurityEvents } from "../hooks/useSecurityEvents";
import { useAccount } from "../hooks/useSession";

type Customer = Schemas["CustomerSummary"];

export function SupportPage() {
  const t = useT();
  const account = useAccount();
  const accountChanged = useAccountChanged();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("support.heading"));
  // Set when the server answers `two_factor_required`: our copy of the account may be out of date.
  const [refused, setRefused] = useState(false);

  function twoFactorRequired() {
    setRefused(true);
    void accountChanged();
  }

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        {t("support.heading")}
      </h1>
      {!account.two_factor.enabled || refused ? <TwoFactorFirst /> : <Desk onTwoFactorRequired={twoFactorRequired} />}
    </>
  );
}

/** The server opens the desk only to agents signed in with a second factor: lead them there. */
function TwoFactorFirst() {
  const t = useT();
  return (
    <section className="panel" aria-labelledby="two-factor-first-heading">
      <h2 id="two-factor-first-heading">{t("support.first_heading")}</h2>
      <p>{t("support.first_explain")}</p>
      <ol className="steps">
        <li>{t("support.first_step1", { label: t("enable.checkbox") })}</li>
        <li>{t("support.first_step2")}</li>
        <li>{t("support.first_step3")}</li>
      </ol>
      <p>
        <Link to="/account">{t("support.first_link")}</Link>
      </p>
    </section>
  );
}

function Desk({ onTwoFactorRequired }: { onTwoFactorRequired: () => void }) {
  const t = useT();
  const { $api } = useApi();
  const [query, setQuery] = useState("");
  const [searched, setSearched] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const search = useQuery({ ...customerSearchQuery($api, searched ?? ""), enabled: searched !== null });
  const problem = search.error ? toProblem(search.error) : null;
  const refused = problem?.code === "two_factor_required";
  const customers = search.data?.customers ?? null;
  const selected = customers?.find((customer) => customer.id === selectedId) ?? null;

  useEffect(() => {
    if (refused) onTwoFactorRequired();
  }, [refused, onTwoFactorRequired]);

  function submit(event: FormEvent) {
    event.preventDefault();
    // One search at a time: a second Enter while the first is out changes nothing.
    if (search.isFetching) return;
    setSelectedId(null);
    const text = query.trim();
    if (text === searched) void search.refetch();
    else setSearched(text);
  }

  return (
    <>
      <p>{t("support.intro")}</p>
      <form role="search" className="search" onSubmit={submit}>
        <Field
          label={t("support.search_label")}
          hint={t("support.search_hint")}
          type="search"
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit" className="primary" disabled={search.isFetching} aria-busy={search.isFetching}>
          {t("support.search")}
        </button>
      </form>
      <ProblemAlert problem={refused ? null : problem} />
      {customers && <CustomerList customers={customers} onOpen={(customer) => setSelectedId(customer.id)} />}
      {selected && <CustomerPanel key={selected.id} customer={selected} onClose={() => setSelectedId(null)} />}
    </>
  );
}

function CustomerList({ customers, onOpen }: { customers: Customer[]; onOpen: (c: Customer) => void }) {
  const t = useT();
  if (customers.length === 0) return <p role="status">{t("support.no_results")}</p>;
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">{t("support.results", { count: customers.length })}</h2>
      <ul className="customers">
        {customers.map((customer) => (
          <li key={customer.id} className="panel">
            <strong>{customer.username}</strong>
            <span>{customer.email ?? t("support.no_email")}</span>
            <span>{t(customer.two_factor_enabled ? "support.twofa_on" : "support.twofa_off")}</span>
            <button type="button" onClick={() => onOpen(customer)}>
              {t("support.open", { name: customer.username })}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The apps that may see this customer's account: read only (only the customer removes them). */
function CustomerApps({ customerId }: { customerId: string }) {
  const t = useT();
  const { $api } = useApi();
  const apps = useQuery(customerAppsQuery($api, customerId));
  return (
    <section aria-labelledby="customer-apps-heading">
      <h3 id="customer-apps-heading">{t("apps.heading")}</h3>
      <ConnectedAppList
        apps={apps.data ?? null}
        problem={apps.error ? toProblem(apps.error) : null}
        none="apps.none_customer"
      />
    </section>
  );
}

type ActionKind = "reset" | "unlock" | "require" | "lift";

/** One customer: their recent security events to check who they are, and what support can do. */
function CustomerPanel(props: { customer: Customer; onClose: () => void }) {
  const t = useT();
  const { customer } = props;
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [action, setAction] = useState<ActionKind | null>(null);
  const [message, setMessage] = useState("");
  const { events, problem } = useSecurityEvents(customer.id);

  function open(kind: ActionKind) {
    setMessage("");
    setAction(kind);
  }

  // The form that had focus is gone: put it back at the top of this customer.
  function close(doneMessage = "") {
    setAction(null);
    setMessage(doneMessage);
    headingRef.current?.focus();
  }


  return (
    <section className="panel" aria-labelledby="customer-heading">
      <h2 id="customer-heading" tabIndex={-1} ref={headingRef}>
        {t("support.customer_heading", { name: customer.username })}
      </h2>
      <dl className="details">
        <dt>{t("details.email")}</dt>
        <dd>{customer.email ?? t("support.no_email")}</dd>
        <dt>{t("support.twofa")}</dt>
        <dd>
          {t(customer.two_factor_enabled ? "common.on" : "common.off")}
          {customer.two_factor_required_by_support && ` (${t("support.required")})`}
        </dd>
      </dl>
      <StatusMessage>{message}</StatusMessage>
      <section aria-labelledby="customer-events-heading">
        <h3 id="customer-events-heading">{t("events.heading")}</h3>
        <p className="hint">{t("support.compare_events")}</p>
        <SecurityEventList events={events} problem={problem} />
      </section>
      <CustomerApps customerId={customer.id} />
      {action ? (
        <SupportAction key={action} kind={action} customer={customer} onCancel={() => close()} onDone={close} />
      ) : (
        <div className="actions">
          {customer.two_factor_enabled && (
            <button type="button" onClick={() => open("reset")}>
              {t("support.reset_open", { name: customer.username })}
            </button>
          )}
          <button type="button" onClick={() => open("unlock")}>
            {t("support.unlock_open", { name: customer.username })}
          </button>
          {customer.two_factor_required_by_support ? (
            <button type="button" onClick={() => open("lift")}>
              {t("support.lift_open", { name: customer.username })}
            </button>
          ) : (
            <button type="button" onClick={() => open("require")}>
              {t("support.require_open", { name: customer.username })}
            </button>
          )}
          <button type="button" onClick={props.onClose}>
            {t("common.close")}
          </button>
        </div>
      )}
    </section>
  );
}

type ActionWords = { title: MessageId; explanation: MessageId; submit: MessageId; consequence: MessageId; done: MessageId };

const ACTIONS: Record<ActionKind, ActionWords> = {
  reset: {
    title: "support.reset_title",
    explanation: "support.reset_explain",
    submit: "support.reset_submit",
    consequence: "support.reset_consequence",
    done: "support.reset_done",
  },
  unlock: {
    title: "support.unlock_title",
    explanation: "support.unlock_explain",
    submit: "support.unlock_submit",
    consequence: "support.unlock_consequence",
    done: "support.unlock_done",
  },
  require: {
    title: "support.require_title",
    explanation: "support.require_explain",
    submit: "support.require_submit",
    consequence: "support.require_consequence",
    done: "support.require_done",
  },
  lift: {
    title: "support.lift_title",
    explanation: "support.lift_explain",
    submit: "support.lift_submit",
    consequence: "support.lift_consequence",
    done: "support.lift_done",
  },
};

/** The limit the server puts on agents, in words; other problems as everywhere else. */
function describeSupportProblem(intl: IntlShape, problem: Problem): string {
  if (problem.code === "too_many_attempts") {
    return intl.formatMessage({ id: "support.limit" }, { advice: retryAdvice(intl, problem) });
  }
  return problemMessage(intl, problem);
}

/** A reset or an unlock: a required reason, a confirmation, and a code when the sign-in is old. */
function SupportAction(props: {
  kind: ActionKind;
  customer: Customer;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const t = useT();
  const { kind, customer } = props;
  const words = ACTIONS[kind];
  const name = { name: customer.username };
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);

  const mutations = {
    reset: useResetCustomerTwoFactor(),
    unlock: useUnlockCustomer(),
    require: useRequireCustomerTwoFactor(),
    lift: useLiftCustomerTwoFactorRequirement(),
  };
  const action = usePrivileged(
    mutations[kind],
    // Agents have two-factor on, so the server takes only a second factor as proof: a code, a
    // recovery code or a passkey's answer.
    (proof) => ({
      customerId: customer.id,
      body: { reason: reason.trim(), code: proof.code, recovery_code: proof.recovery_code, webauthn: proof.webauthn },
    }),
    () => props.onDone(t(words.done, name)),
  );

  return (
    <div>
      <form
        aria-labelledby={`${kind}-heading`}
        onSubmit={(e) => {
          e.preventDefault();
          // While a request is out the form takes no second submit.
          if (!action.busy) setConfirming(true);
        }}
      >
        <h3 id={`${kind}-heading`} tabIndex={-1} ref={headingRef}>
          {t(words.title, name)}
        </h3>
        <p>{t(words.explanation)}</p>
        <div className="field">
          <label htmlFor={`${kind}-reason`}>{t("support.reason")}</label>
          <textarea
            id={`${kind}-reason`}
            ref={reasonRef}
            required
            maxLength={500}
            rows={3}
            readOnly={action.reauthNeeded || action.busy}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
        </div>
        <ProblemAlert problem={action.problem} describe={describeSupportProblem} />
        {!action.reauthNeeded && (
          <div className="actions">
            <button type="submit" className="primary" disabled={action.busy} aria-busy={action.busy}>
              {t(words.submit)}
            </button>
            <button type="button" onClick={props.onCancel}>
              {t("common.cancel")}
            </button>
          </div>
        )}
        {confirming && (
          <ConfirmDialog
            title={t("support.confirm_title", { title: t(words.title, name) })}
            onCancel={() => setConfirming(false)}
            onConfirm={() => {
              setConfirming(false);
              void action.start();
            }}
          >
            <p>{t(words.consequence)}</p>
          </ConfirmDialog>
        )}
      </form>
      {action.reauthNeeded && (
        <ReauthPrompt
          onSubmit={action.retry}
          onCancel={() => {
            action.cancel();
            reasonRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}

