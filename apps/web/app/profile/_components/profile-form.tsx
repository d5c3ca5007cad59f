"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import {
  DISPLAY_NAME_MAX,
  profileFieldErrors,
  type ProfileField,
} from "~/server/domain/profile-schema";
import { useTRPC, type RouterOutputs } from "~/trpc/react";

type Profile = RouterOutputs["profile"]["get"];
type FieldErrors = Partial<Record<ProfileField, string>>;

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";
const field =
  "mt-1 block w-full max-w-md rounded-md border bg-slate-950 px-3 py-2 text-slate-100 placeholder:text-slate-500";

/** Form order: the first field in error gets focus. */
const FIELD_ORDER: ProfileField[] = ["displayName", "email", "contentAutoExpire"];
const ids = {
  displayName: "profile-display-name",
  email: "profile-email",
  contentAutoExpire: "profile-content-expire",
} satisfies Record<ProfileField, string>;
const errorId = (f: ProfileField) => `${ids[f]}-error`;
const hintId = (f: ProfileField) => `${ids[f]}-hint`;

/** The profile: loads it, then the form (mounted once, so a refetch never wipes what was typed). */
export function ProfileForm() {
  const trpc = useTRPC();
  const profile = useQuery(trpc.profile.get.queryOptions());
  if (profile.isPending) return <p className="mt-6 text-slate-400">Loading your profile…</p>;
  if (profile.isError)
    return (
      <p role="alert" className="mt-6 text-red-300">
        {profile.error.data
          ? profile.error.message
          : "Could not reach irc.now. Check your connection and try again."}
      </p>
    );
  return <Form profile={profile.data} />;
}

function Form({ profile }: { profile: Profile }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(profile.displayName);
  const [email, setEmail] = useState(profile.email ?? "");
  const [contentAutoExpire, setContentAutoExpire] = useState(profile.contentAutoExpire);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<{ text: string; seq: number } | null>(null);
  const [focusSeq, setFocusSeq] = useState(0);
  const inputs = {
    displayName: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
    contentAutoExpire: useRef<HTMLInputElement>(null),
  };
  const free = profile.plan === "free";

  // After a failed save: focus the first field in error (WCAG 3.3.1), once per attempt.
  useEffect(() => {
    const first = FIELD_ORDER.find((f) => errors[f]);
    if (first) inputs[first].current?.focus();
    // Runs per save attempt (focusSeq); the refs are stable.
  }, [focusSeq]);

  const update = useMutation(
    trpc.profile.update.mutationOptions({
      onSuccess: async (result) => {
        setErrors(result.fieldErrors);
        if (!result.fieldErrors.displayName) setDisplayName(result.profile.displayName);
        const parts: string[] = [];
        if (result.saved && !result.fieldErrors.email) parts.push("Your profile is saved.");
        else if (result.saved)
          parts.push(
            "Your display name and content setting are saved; your email was not changed.",
          );
        if (result.emailVerificationSent)
          parts.push(
            `Check your inbox at ${result.profile.email ?? "your new address"} to verify your new email address.`,
          );
        setNotice(parts.length ? { text: parts.join(" "), seq: Date.now() } : null);
        setFocusSeq((n) => n + 1);
        queryClient.setQueryData(trpc.profile.get.queryKey(), result.profile);
      },
      onError: (error) => {
        const fromServer = (error.data?.fieldErrors ?? {}) as FieldErrors;
        setErrors(fromServer);
        setNotice(null);
        setFocusSeq((n) => n + 1);
      },
    }),
  );

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    const input = { displayName, email, contentAutoExpire };
    const local = profileFieldErrors(input);
    if (Object.keys(local).length > 0) {
      setErrors(local);
      setNotice(null);
      setFocusSeq((n) => n + 1);
      return;
    }
    update.mutate(input);
  };

  const serverTrouble =
    update.error && !update.error.data?.fieldErrors
      ? update.error.data
        ? update.error.message
        : "Could not reach irc.now. Check your connection and try again."
      : null;

  const describedBy = (f: ProfileField) =>
    [hintId(f), errors[f] ? errorId(f) : null].filter(Boolean).join(" ");
  const fieldError = (f: ProfileField) =>
    errors[f] ? (
      <p id={errorId(f)} className="mt-1 text-sm text-red-300" data-testid={`${ids[f]}-error`}>
        {errors[f]}
      </p>
    ) : null;

  return (
    <form
      noValidate
      onSubmit={onSubmit}
      className="mt-6 space-y-6"
      aria-labelledby="profile-heading"
    >
      {/* Announced when it changes (saved, or what was not). */}
      <div role="status" aria-live="polite" className="empty:hidden" data-testid="profile-notice">
        {notice && (
          <p
            key={notice.seq}
            className="max-w-2xl rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-sm text-emerald-200"
          >
            {notice.text}
          </p>
        )}
      </div>
      {Object.keys(errors).length > 0 && (
        <p role="alert" className="text-sm text-red-300">
          {Object.keys(errors).length === 1
            ? "One field needs your attention."
            : `${Object.keys(errors).length} fields need your attention.`}
        </p>
      )}

      <div>
        <label htmlFor={ids.displayName} className="block text-sm font-medium text-slate-200">
          Display name
        </label>
        <input
          ref={inputs.displayName}
          id={ids.displayName}
          name="displayName"
          value={displayName}
          autoComplete="name"
          placeholder={profile.username}
          onChange={(e) => setDisplayName(e.target.value)}
          aria-invalid={errors.displayName ? true : undefined}
          aria-describedby={describedBy("displayName")}
          className={`${field} ${errors.displayName ? "border-red-500" : "border-slate-700"} ${focusRing}`}
        />
        <p id={hintId("displayName")} className="mt-1 text-sm text-slate-400">
          Up to {DISPLAY_NAME_MAX} characters. Leave it empty to show your username,{" "}
          <span className="font-mono text-slate-300">{profile.username}</span>.
        </p>
        {fieldError("displayName")}
      </div>

      <div>
        <label htmlFor={ids.email} className="block text-sm font-medium text-slate-200">
          Email
        </label>
        <input
          ref={inputs.email}
          id={ids.email}
          name="email"
          type="email"
          value={email}
          autoComplete="email"
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={errors.email ? true : undefined}
          aria-describedby={describedBy("email")}
          className={`${field} ${errors.email ? "border-red-500" : "border-slate-700"} ${focusRing}`}
        />
        <p id={hintId("email")} className="mt-1 text-sm text-slate-400">
          Your sign-in email. A new one gets a verification link, sent by the sign-in service.
        </p>
        {fieldError("email")}
      </div>

      <fieldset>
        <legend className="text-sm font-medium text-slate-200">Content auto-expire</legend>
        <div className="mt-2 flex items-start gap-3">
          <input
            ref={inputs.contentAutoExpire}
            id={ids.contentAutoExpire}
            name="contentAutoExpire"
            type="checkbox"
            // Free: always expires, shown as such and not changeable.
            checked={free ? true : contentAutoExpire}
            disabled={free}
            onChange={(e) => setContentAutoExpire(e.target.checked)}
            aria-invalid={errors.contentAutoExpire ? true : undefined}
            aria-describedby={describedBy("contentAutoExpire")}
            className={`mt-1 h-4 w-4 accent-emerald-500 disabled:cursor-not-allowed ${focusRing}`}
          />
          <div>
            <label htmlFor={ids.contentAutoExpire} className="text-slate-200">
              Delete my stored content after 90 days
            </label>
            <p id={hintId("contentAutoExpire")} className="text-sm text-slate-400">
              {free
                ? "On the free plan your content on irc.now services always expires after 90 days. Keeping it is a Pro setting."
                : "Turn this off to keep your content on irc.now services for as long as you are on Pro."}
            </p>
            {fieldError("contentAutoExpire")}
          </div>
        </div>
      </fieldset>

      <div>
        <p className="text-sm font-medium text-slate-200">Plan</p>
        <p className="mt-1 text-slate-300" data-testid="profile-plan">
          {free ? "Free" : "Pro"}
        </p>
      </div>

      {profile.syncPending && (
        <p className="text-sm text-slate-400" data-testid="profile-sync-pending">
          Other irc.now services learn about your latest changes within a few minutes.
        </p>
      )}

      {serverTrouble && (
        <p role="alert" className="text-sm text-red-300">
          {serverTrouble}
        </p>
      )}

      <button
        type="submit"
        disabled={update.isPending}
        className={`rounded-md bg-emerald-500 px-4 py-2 font-semibold text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
      >
        {update.isPending ? "Saving…" : "Save profile"}
      </button>
    </form>
  );
}
