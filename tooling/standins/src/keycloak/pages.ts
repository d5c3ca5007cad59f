// HTML pages shaped like Keycloak's login theme: same titles, labels and button names, so
// browser tests written against the stand-in read like tests against Keycloak.

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLE = `
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f0f2f5;color:#1f2328}
main{max-width:26rem;margin:4rem auto;padding:2rem 2.25rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
.realm{margin:0 0 1rem;font-size:.85rem;letter-spacing:.05em;text-transform:uppercase;color:#59636e}
h1{margin:0 0 1.25rem;font-size:1.5rem;font-weight:600}
label{display:block;margin:1rem 0 .35rem;font-weight:600}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid #8c959f;border-radius:4px}
input:focus,button:focus{outline:3px solid #0969da;outline-offset:1px}
button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;font-weight:600;color:#fff;background:#0066cc;border:0;border-radius:4px;cursor:pointer}
.alert{margin:0 0 1rem;padding:.75rem 1rem;border-left:4px solid #c9190b;background:#faeae8;color:#7d1007}
p{line-height:1.5}
`;

function layout(title: string, realm: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="realm">${escapeHtml(realm)}</p>
${body}
</main>
</body>
</html>`;
}

export interface LoginPageInput {
  realm: string;
  action: string;
  clientName?: string;
  username?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const error = input.error
    ? `<div id="input-error" class="alert" role="alert" aria-live="polite">${escapeHtml(input.error)}</div>`
    : "";
  const invalid = input.error ? ' aria-invalid="true" aria-describedby="input-error"' : "";
  const client = input.clientName ? `<p>to continue to ${escapeHtml(input.clientName)}</p>` : "";
  return layout(
    `Sign in to ${input.realm}`,
    input.realm,
    `<h1 id="kc-page-title">Sign in to your account</h1>
${client}
${error}
<form id="kc-form-login" method="post" action="${escapeHtml(input.action)}">
<label for="username">Username or email</label>
<input id="username" name="username" type="text" value="${escapeHtml(input.username ?? "")}" autocomplete="username" autofocus${invalid}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"${invalid}>
<button id="kc-login" name="login" type="submit">Sign In</button>
</form>`,
  );
}

/** Keycloak's logout confirmation (shown when the request has no `id_token_hint`). */
export function logoutConfirmPage(realm: string, form: string): string {
  return layout(
    "Logging out",
    realm,
    `<h1 id="kc-page-title">Logging out</h1>
<p>Do you want to log out?</p>
${form}
<button id="kc-logout" type="submit" form="op.logoutForm" name="logout" value="yes">Logout</button>`,
  );
}

export function loggedOutPage(realm: string): string {
  return layout("Signing out", realm, `<h1 id="kc-page-title">You are logged out</h1>`);
}

export function errorPage(realm: string, message: string): string {
  return layout(
    "We are sorry...",
    realm,
    `<h1 id="kc-page-title">We are sorry...</h1>
<p id="kc-error-message" role="alert">${escapeHtml(message)}</p>`,
  );
}
