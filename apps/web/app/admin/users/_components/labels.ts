/** Plain words for Stripe's subscription statuses and the deletion steps (admin users pages). */

export const subscriptionLabel: Record<string, string> = {
  active: "Active",
  trialing: "Trialing",
  past_due: "Past due",
  canceled: "Canceled",
  unpaid: "Unpaid",
  incomplete: "Incomplete",
  incomplete_expired: "Incomplete (expired)",
  paused: "Paused",
};

export const subscriptionText = (status: string | null) =>
  status === null ? "No subscription" : (subscriptionLabel[status] ?? status);

/** The worker's account deletion steps, in order (packages/db account_deletion_step). */
export const deletionStepLabel: Record<string, string> = {
  bouncers: "Deleting bouncers",
  ergo_account: "Erasing the ergo account",
  ergo_secret: "Deleting the ergo credential",
  subscription: "Cancelling the subscription",
  keycloak_user: "Deleting the Keycloak user",
  accounts_rows: "Deleting the portal's rows",
  done: "Done",
};

export const userHref = (username: string) => `/admin/users/${encodeURIComponent(username)}`;
