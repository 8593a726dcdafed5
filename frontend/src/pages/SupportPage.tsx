import { useRef, useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../api/client";
import { problemMessage, retryAdvice, run, type Result } from "../api/problems";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Field } from "../components/Field";
import { Link } from "../components/Layout";
import { ReauthPrompt, type Proof } from "../components/ReauthPrompt";
import { SecurityEventList } from "../components/SecurityEventList";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { usePrivileged } from "../hooks/usePrivileged";
import { useSecurityEvents } from "../hooks/useSecurityEvents";
import { useAccount, useSession } from "../hooks/useSession";

type Customer = Schemas["CustomerSummary"];

export function SupportPage() {
  const account = useAccount();
  const { reloadAccount } = useSession();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  // Set when the server answers `two_factor_required`: our copy of the account may be out of date.
  const [refused, setRefused] = useState(false);

  function twoFactorRequired() {
    setRefused(true);
    void reloadAccount();
  }

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        Support desk
      </h1>
      {!account.two_factor.enabled || refused ? <TwoFactorFirst /> : <Desk onTwoFactorRequired={twoFactorRequired} />}
    </>
  );
}

/** The server opens the desk only to agents signed in with a second factor: lead them there. */
function TwoFactorFirst() {
  return (
    <section className="panel" aria-labelledby="two-factor-first-heading">
      <h2 id="two-factor-first-heading">Switch on two-factor authentication first</h2>
      <p>
        The support desk lets you change other people's accounts, so it opens only when you log in with
        two-factor authentication: your password and a six-digit code from an OTP application on your phone.
      </p>
      <ol className="steps">
        <li>In Account Settings, check "Set up two-factor authentication", scan the QR code and save the code.</li>
        <li>Keep your recovery codes somewhere safe.</li>
        <li>Come back to the support desk.</li>
      </ol>
      <p>
        <Link to="/account">Go to Account Settings to switch on two-factor authentication</Link>
      </p>
    </section>
  );
}

function Desk({ onTwoFactorRequired }: { onTwoFactorRequired: () => void }) {
  const { client } = useApi();
  const [query, setQuery] = useState("");
  const [searched, setSearched] = useState("");
  const [customers, setCustomers] = useState<Customer[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selected = customers?.find((customer) => customer.id === selectedId) ?? null;

  async function search(text: string) {
    setProblem(null);
    setSearched(text);
    const result = await run(client.GET("/api/v1/support/customers", { params: { query: { query: text } } }));
    if (result.ok) setCustomers(result.data.customers);
    else if (result.problem.code === "two_factor_required") onTwoFactorRequired();
    else setProblem(result.problem);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSelectedId(null);
    void search(query.trim());
  }

  return (
    <>
      <p>
        Find a customer, check who they are against their recent security events, then reset their two-factor
        authentication or unlock their sign-in.
      </p>
      <form role="search" className="search" onSubmit={submit}>
        <Field
          label="Search customers"
          hint="Part of the username or email."
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ProblemAlert problem={problem} />
      {customers && <CustomerList customers={customers} onOpen={(customer) => setSelectedId(customer.id)} />}
      {selected && (
        <CustomerPanel
          key={selected.id}
          customer={selected}
          onClose={() => setSelectedId(null)}
          onChanged={() => void search(searched)}
        />
      )}
    </>
  );
}

function CustomerList({ customers, onOpen }: { customers: Customer[]; onOpen: (c: Customer) => void }) {
  if (customers.length === 0) return <p role="status">No customers found.</p>;
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">Customers ({customers.length})</h2>
      <ul className="customers">
        {customers.map((customer) => (
          <li key={customer.id} className="panel">
            <strong>{customer.username}</strong>
            <span>{customer.email ?? "No email"}</span>
            <span>Two-factor: {customer.two_factor_enabled ? "on" : "off"}</span>
            <button type="button" onClick={() => onOpen(customer)}>
              Open {customer.username}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

type ActionKind = "reset" | "unlock";

/** One customer: their recent security events to check who they are, and what support can do. */
function CustomerPanel(props: { customer: Customer; onClose: () => void; onChanged: () => void }) {
  const { customer } = props;
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [action, setAction] = useState<ActionKind | null>(null);
  const [message, setMessage] = useState("");
  const [version, setVersion] = useState(0);
  const { events, problem } = useSecurityEvents(customer.id, version);

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

  function done(text: string) {
    close(text);
    setVersion((v) => v + 1);
    props.onChanged();
  }

  return (
    <section className="panel" aria-labelledby="customer-heading">
      <h2 id="customer-heading" tabIndex={-1} ref={headingRef}>
        Customer {customer.username}
      </h2>
      <dl className="details">
        <dt>Email</dt>
        <dd>{customer.email ?? "No email"}</dd>
        <dt>Two-factor</dt>
        <dd>{customer.two_factor_enabled ? "On" : "Off"}</dd>
      </dl>
      <StatusMessage>{message}</StatusMessage>
      <section aria-labelledby="customer-events-heading">
        <h3 id="customer-events-heading">Recent security events</h3>
        <p className="hint">Compare them with what the customer tells you before you change anything.</p>
        <SecurityEventList events={events} problem={problem} />
      </section>
      {action ? (
        <SupportAction key={action} kind={action} customer={customer} onCancel={() => close()} onDone={done} />
      ) : (
        <div className="actions">
          {customer.two_factor_enabled && (
            <button type="button" onClick={() => open("reset")}>
              Reset two-factor for {customer.username}
            </button>
          )}
          <button type="button" onClick={() => open("unlock")}>
            Unlock sign-in for {customer.username}
          </button>
          <button type="button" onClick={props.onClose}>
            Close
          </button>
        </div>
      )}
    </section>
  );
}

type ActionWords = {
  title: (name: string) => string;
  explanation: string;
  submit: string;
  consequence: string;
  done: (name: string) => string;
};

const ACTIONS: Record<ActionKind, ActionWords> = {
  reset: {
    title: (name) => `Reset two-factor authentication for ${name}`,
    explanation:
      "Only after you have checked who the customer is. They can then log in with their password alone.",
    submit: "Reset two-factor",
    consequence: "Their OTP application and recovery codes will stop working, and the reason is recorded.",
    done: (name) => `Two-factor authentication for ${name} has been reset.`,
  },
  unlock: {
    title: (name) => `Unlock sign-in for ${name}`,
    explanation:
      "For a customer locked out after too many wrong passwords or codes, once you have checked who they are. Their failed attempts are forgotten, so they can log in again at once.",
    submit: "Unlock sign-in",
    consequence: "Their failed attempts are cleared, and the reason is recorded.",
    done: (name) => `Sign-in for ${name} has been unlocked.`,
  },
};

/** The limit the server puts on agents, in words; other problems as everywhere else. */
function describeSupportProblem(problem: Problem): string {
  if (problem.code === "too_many_attempts") {
    return `You have reached the limit of 30 resets and unlocks an hour. ${retryAdvice(problem)}`;
  }
  return problemMessage(problem);
}

/** A reset or an unlock: a required reason, a confirmation, and a code when the sign-in is old. */
function SupportAction(props: {
  kind: ActionKind;
  customer: Customer;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const { client } = useApi();
  const { kind, customer } = props;
  const words = ACTIONS[kind];
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);

  async function act(proof: Proof): Promise<Result<null>> {
    // Agents have two-factor on, so the server takes only a code or a recovery code as proof.
    const body = { reason: reason.trim(), code: proof.code, recovery_code: proof.recovery_code };
    const path = { id: customer.id };
    const result =
      kind === "reset"
        ? await run(client.POST("/api/v1/support/customers/{id}/two-factor/reset", { params: { path }, body }))
        : await run(client.POST("/api/v1/support/customers/{id}/unlock", { params: { path }, body }));
    return result.ok ? { ok: true, data: null } : result;
  }

  const action = usePrivileged(act, () => props.onDone(words.done(customer.username)));

  return (
    <div>
      <form
        aria-labelledby={`${kind}-heading`}
        onSubmit={(e) => {
          e.preventDefault();
          setConfirming(true);
        }}
      >
        <h3 id={`${kind}-heading`} tabIndex={-1} ref={headingRef}>
          {words.title(customer.username)}
        </h3>
        <p>{words.explanation}</p>
        <div className="field">
          <label htmlFor={`${kind}-reason`}>Reason (required)</label>
          <textarea
            id={`${kind}-reason`}
            ref={reasonRef}
            required
            maxLength={500}
            rows={3}
            readOnly={action.reauthNeeded}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <ProblemAlert problem={action.problem} describe={describeSupportProblem} />
        {!action.reauthNeeded && (
          <div className="actions">
            <button type="submit" className="primary" disabled={action.busy}>
              {words.submit}
            </button>
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          </div>
        )}
        {confirming && (
          <ConfirmDialog
            title={`${words.title(customer.username)}?`}
            onCancel={() => setConfirming(false)}
            onConfirm={() => {
              setConfirming(false);
              void action.start();
            }}
          >
            <p>{words.consequence}</p>
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
