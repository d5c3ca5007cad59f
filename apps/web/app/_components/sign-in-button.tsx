"use client";

import { signIn } from "next-auth/react";

export function SignInButton({
  className,
  children,
  callbackUrl = "/dashboard",
}: {
  className?: string;
  children: React.ReactNode;
  callbackUrl?: string;
}) {
  return (
    <button
      type="button"
      className={className}
      onClick={() => void signIn("keycloak", { callbackUrl })}
    >
      {children}
    </button>
  );
}
