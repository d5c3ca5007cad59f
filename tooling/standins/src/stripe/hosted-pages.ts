/**
 * For tests: a browser without JavaScript on the stand-in's hosted pages (Checkout, Billing
 * Portal, controls) — open the page, submit one of its forms with its hidden fields.
 */
export interface PageAnswer {
  status: number;
  location: string | null;
  html: string;
}

/** Opens a hosted page and submits its form number `formIndex` (the first by default). */
export async function submitForm(
  pageUrl: string,
  fields: Record<string, string>,
  formIndex = 0,
): Promise<PageAnswer> {
  const page = await fetch(pageUrl);
  const html = await page.text();
  const forms = [
    ...html.matchAll(/<form[^>]*method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g),
  ];
  const form = forms[formIndex];
  if (!form) throw new Error(`no form ${formIndex} on ${pageUrl}: ${html}`);
  const hidden = Object.fromEntries(
    [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  const res = await fetch(new URL(form[1]!.replaceAll("&amp;", "&"), pageUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    body: new URLSearchParams({ ...hidden, ...fields }).toString(),
  });
  return { status: res.status, location: res.headers.get("location"), html: await res.text() };
}

/** Pays a Checkout Session through its hosted page with a card (and an email if it asks). */
export function payCheckout(
  session: { url: string | null },
  cardNumber: string,
  email?: string,
): Promise<PageAnswer> {
  if (!session.url) throw new Error("the Checkout Session has no hosted page url");
  return submitForm(session.url, { cardNumber, ...(email ? { email } : {}) });
}
