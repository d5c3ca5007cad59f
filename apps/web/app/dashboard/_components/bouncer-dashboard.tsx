"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { phaseLabel, StatusSteps } from "./status-steps";

type Bouncer = RouterOutputs["bouncer"]["mine"]["bouncers"][number];

export function BouncerDashboard() {
  const trpc = useTRPC();
  // Poll while anything is still moving; slow down once every bouncer is settled.
  const mine = useQuery(
    trpc.bouncer.mine.queryOptions(undefined, {
      // A bouncer waiting for staff may wait a while: check every 10 s rather than every 2 s.
      refetchInterval: (query) => {
        const bouncers = query.state.data?.bouncers;
        if (!bouncers) return 2_000;
        if (bouncers.every((b) => b.phase === "authenticated")) return 30_000;
        return bouncers.every((b) => b.phase === "authenticated" || b.phase === "needs_admin")
          ? 10_000
          : 2_000;
      },
    }),
  );

  if (mine.isPending) return <p className="mt-8 text-slate-400">Loading your bouncers…</p>;
  if (mine.isError) {
    return (
      <p
        role="alert"
        className="mt-8 rounded-md border border-red-900 bg-red-950/40 p-4 text-red-200"
      >
        {mine.error.message}
      </p>
    );
  }
  const { bouncers, quota, plan } = mine.data;
  return (
    <div className="mt-8 space-y-8">
      {bouncers.length === 0 && (
        <p className="text-slate-300">
          You have no bouncer yet. Create one below — it takes about a minute.
        </p>
      )}
      {bouncers.map((b) => (
        <BouncerCard key={b.name} bouncer={b} />
      ))}
      <CreateBouncerForm atQuota={bouncers.length >= quota} quota={quota} plan={plan} />
    </div>
  );
}

function BouncerCard({ bouncer }: { bouncer: Bouncer }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <section
      aria-labelledby={`bouncer-${bouncer.name}`}
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-6"
      data-testid={`bouncer-${bouncer.name}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h2 id={`bouncer-${bouncer.name}`} className="font-mono text-xl font-semibold text-white">
            {bouncer.name}
          </h2>
          <p className="mt-1 text-sm text-slate-400">
            Status:{" "}
            <strong className="text-slate-100" data-testid="bouncer-status">
              {phaseLabel[bouncer.phase]}
            </strong>
            {bouncer.upstream?.state === "authenticated" && bouncer.upstream.account && (
              <>
                {" "}
                as <span className="font-mono">{bouncer.upstream.account}</span>
              </>
            )}
          </p>
        </div>
        <button
          type="button"
          onClick={() => setConfirming(true)}
          className="rounded-md border border-red-900 px-3 py-1.5 text-sm text-red-300 hover:bg-red-950"
        >
          Delete…
        </button>
      </div>
      <StatusSteps bouncer={bouncer} />
      {bouncer.detail && !bouncer.problem && (
        <p className="mt-3 text-sm text-slate-400">{bouncer.detail}…</p>
      )}
      {bouncer.problem && (
        <p
          role="status"
          className="mt-4 rounded-md border border-amber-800 bg-amber-950/40 p-3 text-sm text-amber-200"
        >
          {bouncer.problem}
        </p>
      )}
      <ConnectionDetails bouncer={bouncer} />
      {confirming && <DeleteDialog name={bouncer.name} onClose={() => setConfirming(false)} />}
    </section>
  );
}

function ConnectionDetails({ bouncer }: { bouncer: Bouncer }) {
  const c = bouncer.connection;
  const rows = [
    ["Server", c.host],
    ["Port", String(c.port)],
    ["TLS", c.tls ? "Yes" : "No"],
    ["Username", c.username],
    ["Password", "your irc.now password"],
  ];
  return (
    <div className="mt-6">
      <h3 className="text-sm font-semibold text-slate-300">Connect your IRC client</h3>
      <dl className="mt-2 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1 text-sm">
        {rows.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-400">{k}</dt>
            <dd className="font-mono text-slate-200">{v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function DeleteDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState("");
  const del = useMutation(
    trpc.bouncer.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.bouncer.mine.queryKey() });
        onClose();
      },
    }),
  );
  return (
    <div
      role="dialog"
      aria-modal="true"
      aria-labelledby={`delete-${name}`}
      className="mt-6 rounded-md border border-red-900 bg-red-950/30 p-4"
    >
      <h3 id={`delete-${name}`} className="font-semibold text-red-200">
        Delete {name}?
      </h3>
      <p className="mt-1 text-sm text-red-200/80">
        This removes the bouncer, its networks and its stored history. It cannot be undone.
      </p>
      <form
        className="mt-3 flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          del.mutate({ name, confirmName: typed });
        }}
      >
        <label className="text-sm text-slate-300">
          Type <span className="font-mono">{name}</span> to confirm
          <input
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            className="mt-1 block rounded-md border border-slate-700 bg-slate-950 px-3 py-2 font-mono text-slate-100"
            autoComplete="off"
          />
        </label>
        <button
          type="submit"
          disabled={del.isPending}
          className="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500 disabled:opacity-50"
        >
          {del.isPending ? "Deleting…" : "Delete bouncer"}
        </button>
        <button
          type="button"
          onClick={onClose}
          className="rounded-md px-3 py-2 text-sm text-slate-300 hover:bg-slate-800"
        >
          Cancel
        </button>
      </form>
      {del.isError && (
        <p role="alert" className="mt-2 text-sm text-red-300">
          {del.error.message}
        </p>
      )}
    </div>
  );
}

function CreateBouncerForm({
  atQuota,
  quota,
  plan,
}: {
  atQuota: boolean;
  quota: number;
  plan: "free" | "pro";
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.bouncer.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        await queryClient.invalidateQueries({ queryKey: trpc.bouncer.mine.queryKey() });
      },
    }),
  );
  const fieldError =
    create.error?.data && "fieldErrors" in create.error.data
      ? (create.error.data.fieldErrors as Record<string, string> | null)?.name
      : undefined;
  return (
    <section
      aria-labelledby="create-heading"
      className="rounded-lg border border-dashed border-slate-700 p-6"
    >
      <h2 id="create-heading" className="text-lg font-semibold text-white">
        Create a bouncer
      </h2>
      {atQuota ? (
        <p className="mt-2 text-sm text-slate-400" data-testid="quota-message">
          Your {plan} plan includes {quota} bouncer{quota === 1 ? "" : "s"}, and you are using{" "}
          {quota === 1 ? "it" : "all of them"}.{plan === "free" ? " Upgrade to pro for more." : ""}
        </p>
      ) : (
        <form
          className="mt-3 flex flex-wrap items-start gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ name: name.trim() });
          }}
        >
          <div>
            <label htmlFor="bouncer-name" className="block text-sm text-slate-300">
              Name
            </label>
            <input
              id="bouncer-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. alice"
              aria-describedby="bouncer-name-help"
              aria-invalid={create.isError || undefined}
              className="mt-1 block w-64 rounded-md border border-slate-700 bg-slate-950 px-3 py-2 font-mono text-slate-100"
              autoComplete="off"
            />
            <p id="bouncer-name-help" className="mt-1 text-xs text-slate-400">
              Lowercase letters, digits and hyphens; up to 63 characters.
            </p>
          </div>
          <button
            type="submit"
            disabled={create.isPending}
            className="mt-6 rounded-md bg-emerald-500 px-4 py-2 font-semibold text-slate-950 hover:bg-emerald-400 disabled:opacity-50"
          >
            {create.isPending ? "Creating…" : "Create bouncer"}
          </button>
        </form>
      )}
      {create.isError && (
        <p role="alert" data-testid="create-error" className="mt-3 text-sm text-red-300">
          {fieldError ?? create.error.message}
        </p>
      )}
    </section>
  );
}
