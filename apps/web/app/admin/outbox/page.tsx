import type { Metadata } from "next";
import { adminMetadata } from "../_components/metadata";
import { StuckOutbox } from "./_components/stuck-outbox";

export function generateMetadata(): Promise<Metadata> {
  return adminMetadata("Keycloak sync");
}

export default function AdminOutboxPage() {
  return (
    <>
      <h1 className="text-3xl font-bold text-white">Keycloak sync</h1>
      <p className="mt-2 max-w-3xl text-slate-400">
        Every sign-in, profile save and plan change is queued for Keycloak and pushed by the worker,
        retrying on its own while Keycloak is unreachable. Listed here: users whose push failed 3
        times or more, waited more than 15 minutes, or was given up on because Keycloak has no such
        user.
      </p>
      <StuckOutbox />
    </>
  );
}
