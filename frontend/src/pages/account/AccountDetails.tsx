import type { Account } from "../../api/client";
import { formatDate } from "./format";

export function AccountDetails({ account }: { account: Account }) {
  return (
    <section className="panel" aria-labelledby="details-heading">
      <h2 id="details-heading">Account details</h2>
      <dl className="details">
        <dt>Username</dt>
        <dd>{account.username}</dd>
        <dt>Email</dt>
        <dd>{account.email ?? "Not given"}</dd>
        <dt>Account type</dt>
        <dd>{account.role === "support" ? "Customer support" : "Customer"}</dd>
        <dt>Customer since</dt>
        <dd>{formatDate(account.created_at)}</dd>
      </dl>
    </section>
  );
}
