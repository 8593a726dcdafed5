import { useState, type FormEvent } from "react";
import type { Problem, Schemas } from "../api/client";
import { run } from "../api/problems";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Field } from "../components/Field";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";

type Customer = Schemas["CustomerSummary"];

export function SupportPage() {
  const { client } = useApi();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [query, setQuery] = useState("");
  const [customers, setCustomers] = useState<Customer[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [selected, setSelected] = useState<Customer | null>(null);
  const [message, setMessage] = useState("");

  async function search(text: string) {
    setProblem(null);
    const result = await run(client.GET("/api/v1/support/customers", { params: { query: { query: text } } }));
    if (result.ok) setCustomers(result.data.customers);
    else setProblem(result.problem);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setMessage("");
    void search(query.trim());
  }

  return (
    <>
      <h1 tabIndex={-1} ref={headingRef}>
        Support desk
      </h1>
      <p>Find a customer who lost their OTP application, check who they are, and reset their two-factor authentication.</p>
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
      <StatusMessage>{message}</StatusMessage>
      {customers && <CustomerList customers={customers} onReset={setSelected} />}
      {selected && (
        <ResetTwoFactor
          key={selected.id}
          customer={selected}
          onCancel={() => setSelected(null)}
          onDone={() => {
            setMessage(`Two-factor authentication for ${selected.username} has been reset.`);
            setSelected(null);
            void search(query.trim());
          }}
        />
      )}
    </>
  );
}

function CustomerList({ customers, onReset }: { customers: Customer[]; onReset: (c: Customer) => void }) {
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
            {customer.two_factor_enabled && (
              <button type="button" onClick={() => onReset(customer)}>
                Reset two-factor for {customer.username}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ResetTwoFactor(props: { customer: Customer; onCancel: () => void; onDone: () => void }) {
  const { client } = useApi();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const { customer } = props;

  async function reset() {
    setConfirming(false);
    const result = await run(
      client.POST("/api/v1/support/customers/{id}/two-factor/reset", {
        params: { path: { id: customer.id } },
        body: { reason: reason.trim() },
      }),
    );
    if (result.ok) props.onDone();
    else setProblem(result.problem);
  }

  return (
    <form
      className="panel"
      aria-labelledby="reset-heading"
      onSubmit={(e) => {
        e.preventDefault();
        setConfirming(true);
      }}
    >
      <h2 id="reset-heading" tabIndex={-1} ref={headingRef}>
        Reset two-factor authentication for {customer.username}
      </h2>
      <p>Only after you have checked who the customer is. They can then log in with their password alone.</p>
      <div className="field">
        <label htmlFor="reset-reason">Reason (required)</label>
        <textarea
          id="reset-reason"
          required
          maxLength={500}
          rows={3}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      <ProblemAlert problem={problem} />
      <div className="actions">
        <button type="submit" className="primary">
          Reset two-factor
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Reset two-factor authentication for ${customer.username}?`}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void reset()}
        >
          <p>Their OTP application and recovery codes will stop working, and the reason is recorded.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
