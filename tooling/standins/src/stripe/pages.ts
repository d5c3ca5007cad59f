// Server-rendered pages: Stripe's hosted Checkout and Billing Portal as far as the portal's
// users meet them, and the stand-in's own control page. Plain forms, no script; every field
// has a label, every action is a real button, errors are announced (role="alert").
import type { DeliveryRecord, StripeEvent } from "./webhooks";

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const e = escapeHtml;

const STYLE = `
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f9fc;color:#1a1f36}
main{max-width:34rem;margin:3rem auto;padding:2rem 2.25rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
main.wide{max-width:64rem}
.merchant{margin:0 0 1rem;font-size:.9rem;color:#4f566b}
h1{margin:0 0 1rem;font-size:1.5rem;font-weight:600}
h2{margin:1.5rem 0 .5rem;font-size:1.15rem}
.price{font-size:2rem;font-weight:700;margin:.25rem 0 1.5rem}
label{display:block;margin:1rem 0 .35rem;font-weight:600}
input[type=text],input[type=email],input[type=url]{box-sizing:border-box;width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid #6b7385;border-radius:4px}
.hint{margin:.35rem 0 0;font-size:.875rem;color:#4f566b}
input:focus,button:focus,a:focus{outline:3px solid #0055cc;outline-offset:2px}
button{margin-top:1.25rem;padding:.65rem 1.1rem;font-size:1rem;font-weight:600;color:#fff;background:#0055cc;border:0;border-radius:4px;cursor:pointer}
button.secondary{color:#0055cc;background:#fff;border:1px solid #0055cc}
button.danger{background:#b3093c}
form.inline{display:inline-block;margin-right:.5rem}
.alert{margin:0 0 1rem;padding:.75rem 1rem;border-left:4px solid #b3093c;background:#fdecef;color:#7a0526}
.status{margin:0 0 1rem;padding:.75rem 1rem;border-left:4px solid #0e6245;background:#e6f4ee;color:#0b4a34}
a{color:#0055cc}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e8ee;vertical-align:top}
code{font-size:.85em}
p{line-height:1.5}
`;

function layout(title: string, body: string, wide = false): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main${wide ? ' class="wide"' : ""}>
${body}
</main>
</body>
</html>`;
}

const date = (unix: number) =>
  new Date(unix * 1000).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });

export interface CheckoutPageInput {
  merchant: string;
  action: string;
  product: string;
  amount: string;
  interval: string;
  /** The email the customer pays as, when the session knows it already. */
  fixedEmail: string | null;
  email?: string;
  cardNumber?: string;
  error?: { field: "card" | "email"; message: string };
  cancelUrl: string | null;
}

export function checkoutPage(input: CheckoutPageInput): string {
  const err = input.error;
  const alert = err
    ? `<div id="payment-error" class="alert" role="alert">${e(err.message)}</div>`
    : "";
  const invalid = (field: "email") =>
    err?.field === field ? ' aria-invalid="true" aria-describedby="payment-error"' : "";
  const email = input.fixedEmail
    ? `<p>Paying as <strong>${e(input.fixedEmail)}</strong></p>`
    : `<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required value="${e(input.email ?? "")}"${invalid("email")}>`;
  const back = input.cancelUrl
    ? `<p><a id="cancel" href="${e(input.cancelUrl)}">Cancel and return to ${e(input.merchant)}</a></p>`
    : "";
  return layout(
    `Subscribe to ${input.product}`,
    `<p class="merchant">${e(input.merchant)} · test mode (Stripe stand-in)</p>
<h1>Subscribe to ${e(input.product)}</h1>
<p class="price">${e(input.amount)} <span class="hint">per ${e(input.interval)}</span></p>
${alert}
<form method="post" action="${e(input.action)}">
${email}
<label for="cardNumber">Card number</label>
<input id="cardNumber" name="cardNumber" type="text" inputmode="numeric" autocomplete="cc-number" required value="${e(input.cardNumber ?? "")}"${err?.field === "card" ? ' aria-invalid="true" aria-describedby="payment-error card-hint"' : ' aria-describedby="card-hint"'}>
<p id="card-hint" class="hint">Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.</p>
<button id="submit" type="submit">Subscribe</button>
</form>
${back}`,
  );
}

export function messagePage(
  title: string,
  message: string,
  link?: { href: string; text: string },
): string {
  return layout(
    title,
    `<h1>${e(title)}</h1>
<p role="status">${e(message)}</p>
${link ? `<p><a href="${e(link.href)}">${e(link.text)}</a></p>` : ""}`,
  );
}

export interface PortalSubscription {
  id: string;
  product: string;
  amount: string;
  interval: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  periodEnd: number;
  endedAt: number | null;
}

export function portalPage(input: {
  merchant: string;
  action: string;
  email: string | null;
  subscriptions: PortalSubscription[];
  returnUrl: string | null;
  message?: string;
}): string {
  const subs = input.subscriptions.length
    ? input.subscriptions
        .map((s) => {
          const live = s.status !== "canceled" && s.status !== "incomplete_expired";
          const state = !live
            ? `Canceled${s.endedAt ? ` on ${date(s.endedAt)}` : ""}`
            : s.cancelAtPeriodEnd
              ? `Cancels on ${date(s.periodEnd)}`
              : s.status === "active"
                ? `Renews on ${date(s.periodEnd)}`
                : `${s.status === "past_due" ? "Past due" : s.status === "unpaid" ? "Unpaid" : s.status}; period ends on ${date(s.periodEnd)}`;
          const button = (action: string, text: string, cls = "") =>
            `<form class="inline" method="post" action="${e(input.action)}"><input type="hidden" name="subscription" value="${e(s.id)}"><input type="hidden" name="action" value="${action}"><button type="submit"${cls ? ` class="${cls}"` : ""}>${text}</button></form>`;
          const actions = !live
            ? ""
            : [
                s.cancelAtPeriodEnd
                  ? button("resume", "Resume subscription")
                  : button("cancel_at_period_end", "Cancel at end of period", "secondary"),
                button("cancel_now", "Cancel immediately", "danger"),
              ].join("\n");
          return `<section aria-labelledby="h-${e(s.id)}">
<h2 id="h-${e(s.id)}">${e(s.product)}</h2>
<p>${e(s.amount)} per ${e(s.interval)} · <span data-status="${e(s.status)}">${e(state)}</span></p>
${actions}
</section>`;
        })
        .join("\n")
    : "<p>No subscriptions.</p>";
  return layout(
    `Manage billing — ${input.merchant}`,
    `<p class="merchant">${e(input.merchant)} · test mode (Stripe stand-in)</p>
<h1>Manage your subscription</h1>
${input.email ? `<p>Signed in as <strong>${e(input.email)}</strong></p>` : ""}
${input.message ? `<div class="status" role="status">${e(input.message)}</div>` : ""}
${subs}
${input.returnUrl ? `<p><a id="return" href="${e(input.returnUrl)}">Return to ${e(input.merchant)}</a></p>` : ""}`,
  );
}

export interface ControlSubscription {
  id: string;
  customerEmail: string | null;
  status: string;
  cancelAtPeriodEnd: boolean;
  periodEnd: number;
}

export function controlPage(input: {
  subscriptions: ControlSubscription[];
  events: StripeEvent[];
  deliveries: DeliveryRecord[];
  endpoints: string[];
  held: string[];
  message?: string;
}): string {
  const post = (path: string, text: string, fields: Record<string, string> = {}) =>
    `<form class="inline" method="post" action="${e(path)}">${Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${e(k)}" value="${e(v)}">`)
      .join("")}<button type="submit" class="secondary">${e(text)}</button></form>`;
  const subs = input.subscriptions
    .map(
      (
        s,
      ) => `<tr><td><code>${e(s.id)}</code></td><td>${e(s.customerEmail ?? "")}</td><td>${e(s.status)}${s.cancelAtPeriodEnd ? " (cancels at period end)" : ""}</td><td>${date(s.periodEnd)}</td><td>
${post(`/_standin/subscriptions/${s.id}/renew`, "Renew")}
${post(`/_standin/subscriptions/${s.id}/fail-payment`, "Fail payment")}
${post(`/_standin/subscriptions/${s.id}/pay`, "Pay open invoice")}
${post(`/_standin/subscriptions/${s.id}/mark-unpaid`, "Mark unpaid")}
${post(`/_standin/subscriptions/${s.id}/out-of-order-cancel`, "Cancel, updated after deleted")}
</td></tr>`,
    )
    .join("\n");
  const events = input.events
    .slice(-30)
    .reverse()
    .map(
      (
        ev,
      ) => `<tr><td><code>${e(ev.id)}</code></td><td>${e(ev.type)}</td><td>${new Date(ev.created * 1000).toISOString()}</td><td>
${post(`/_standin/events/${ev.id}/resend`, "Resend")}
${post(`/_standin/events/${ev.id}/duplicate`, "Deliver twice at once", { times: "2", concurrent: "true" })}
${post(`/_standin/events/${ev.id}/resend`, "Resend, signed 10 minutes ago", { stale_seconds: "600" })}
</td></tr>`,
    )
    .join("\n");
  const deliveries = input.deliveries
    .slice(-50)
    .reverse()
    .map(
      (d) =>
        `<tr><td>${e(d.startedAt)}</td><td><code>${e(d.eventId)}</code></td><td>${e(d.type)}</td><td>${e(d.kind)} #${d.attempt}</td><td>${e(d.endpoint)}</td><td>${d.status ?? e(d.error ?? "")}</td></tr>`,
    )
    .join("\n");
  return layout(
    "Stripe stand-in control",
    `<h1>Stripe stand-in control</h1>
<p>Stand-in only: no real Stripe has these controls. The same actions answer JSON to
<code>curl -X POST</code> on the paths the buttons use (docs/stand-ins.md, "Stripe").</p>
${input.message ? `<div class="status" role="status">${e(input.message)}</div>` : ""}
<h2>Webhook endpoints</h2>
<ul>${input.endpoints.map((u) => `<li><code>${e(u)}</code></li>`).join("") || "<li>none</li>"}</ul>
<p>Held events: ${input.held.length ? input.held.map((h) => `<code>${e(h)}</code>`).join(", ") : "none"}</p>
${post("/_standin/hold", "Hold customer.subscription.updated", { type: "customer.subscription.updated" })}
${post("/_standin/release", "Deliver held events")}
<h2>Subscriptions</h2>
<table><caption class="hint">Newest last</caption><thead><tr><th scope="col">Subscription</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col">Period ends</th><th scope="col">Actions</th></tr></thead>
<tbody>${subs || '<tr><td colspan="5">none yet</td></tr>'}</tbody></table>
<h2>Events</h2>
<table><caption class="hint">Newest first, last 30</caption><thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
<tbody>${events || '<tr><td colspan="4">none yet</td></tr>'}</tbody></table>
<h2>Deliveries</h2>
<table><caption class="hint">Newest first, last 50</caption><thead><tr><th scope="col">At</th><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Kind</th><th scope="col">Endpoint</th><th scope="col">Answer</th></tr></thead>
<tbody>${deliveries || '<tr><td colspan="6">none yet</td></tr>'}</tbody></table>`,
    true,
  );
}
