import type { Page } from "playwright-core";

/** Keycloak's login form (the stand-in renders Keycloak's own labels): fills it and submits. */
export async function submitKeycloakLogin(
  page: Page,
  username: string,
  password: string,
): Promise<void> {
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign In" }).click();
}

/**
 * Signs in the way a visitor does: the landing page's button, then Keycloak's form. Waits for
 * the dashboard unless told not to (a refused sign-in ends on the problem page).
 */
export async function signInFromLanding(
  page: Page,
  webUrl: string,
  username: string,
  password: string,
  { waitForDashboard = true }: { waitForDashboard?: boolean } = {},
): Promise<void> {
  await page.goto(webUrl);
  await page.getByRole("button", { name: "Sign in to get your bouncer" }).click();
  await submitKeycloakLogin(page, username, password);
  if (waitForDashboard) await page.waitForURL(`${webUrl}/dashboard`);
}

/** `shot(page, name)`: a full-page screenshot as `<dir>/<name>.png`, to look at after a run. */
export function screenshotter(dir: string): (page: Page, name: string) => Promise<Buffer> {
  return (page, name) => page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
