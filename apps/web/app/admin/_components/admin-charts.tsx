"use client";

import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { useTRPC } from "~/trpc/react";
import { formatDay, outcomeLabel, phaseLabel, phases, type Outcome, type Phase } from "./format";
import { ErrorNotice } from "./ui";

const DAYS = 14;

const phaseColor: Record<Phase, string> = {
  provisioning: "#38bdf8", // sky-400
  ready: "#0ea5e9", // sky-500
  needs_admin: "#fb923c", // orange-400, as in the outcomes chart
  configured: "#fbbf24", // amber-400
  authenticated: "#34d399", // emerald-400
  deleting: "#64748b", // slate-500
};

const outcomeColor: Record<Outcome, string> = {
  succeeded: "#34d399",
  failed: "#f87171",
  running: "#38bdf8",
  needs_admin: "#fb923c", // orange-400
};
const stackOrder: readonly Outcome[] = ["succeeded", "failed", "needs_admin", "running"];

const axis = { stroke: "#475569", tick: { fill: "#94a3b8", fontSize: 12 } } as const;
const tooltip = {
  contentStyle: {
    backgroundColor: "#0f172a",
    border: "1px solid #334155",
    borderRadius: 6,
    color: "#e2e8f0",
  },
  labelStyle: { color: "#f8fafc", fontWeight: 600 },
  itemStyle: { color: "#e2e8f0" },
  cursor: { fill: "rgba(148, 163, 184, 0.08)" },
} as const;

/** Two overview charts from admin.stats: bouncers by phase now, and setup outcomes per day. */
export function AdminCharts() {
  const trpc = useTRPC();
  const stats = useQuery(
    trpc.admin.stats.queryOptions({ days: DAYS }, { refetchInterval: 30_000 }),
  );

  if (stats.isPending) return <p className="mt-6 text-sm text-slate-400">Loading charts…</p>;
  if (stats.isError && !stats.data)
    return <ErrorNotice error={stats.error} prefix="Could not load the charts:" className="mt-6" />;

  const byPhase = phases.map((phase) => ({
    phase,
    label: phaseLabel[phase],
    count: stats.data.byPhase[phase] ?? 0,
  }));
  const days = stats.data.outcomesByDay.map((d) => ({ ...d, label: formatDay(d.day) }));
  return (
    <div className="mt-6 grid gap-6 lg:grid-cols-2">
      <ChartCard
        title="Bouncers by phase"
        summary={byPhase.map((p) => `${p.label}: ${p.count}`).join(", ")}
        empty={byPhase.every((p) => p.count === 0) ? "There are no bouncers yet." : null}
        table={{ head: ["Phase", "Bouncers"], rows: byPhase.map((p) => [p.label, p.count]) }}
      >
        <BarChart
          accessibilityLayer={false}
          data={byPhase}
          layout="vertical"
          margin={{ top: 0, right: 16, bottom: 0, left: 0 }}
        >
          <CartesianGrid stroke="#1e293b" horizontal={false} />
          <XAxis type="number" allowDecimals={false} {...axis} />
          <YAxis
            type="category"
            dataKey="label"
            width={112}
            interval={0}
            {...axis}
            tickFormatter={(l: string) => l.replace(" (setting up)", "")}
          />
          <Tooltip {...tooltip} />
          <Bar dataKey="count" name="Bouncers" radius={[0, 4, 4, 0]} isAnimationActive={false}>
            {byPhase.map((p) => (
              <Cell key={p.phase} fill={phaseColor[p.phase]} />
            ))}
          </Bar>
        </BarChart>
      </ChartCard>

      <ChartCard
        title={`Setup outcomes per day (last ${DAYS} days, UTC)`}
        summary={stackOrder
          .map((o) => `${outcomeLabel[o]}: ${days.reduce((n, d) => n + d[o], 0)}`)
          .join(", ")}
        empty={
          days.every((d) => stackOrder.every((o) => d[o] === 0))
            ? `No setup attempts in the last ${DAYS} days.`
            : null
        }
        table={{
          head: ["Day", ...stackOrder.map((o) => outcomeLabel[o])],
          rows: days.map((d) => [d.label, ...stackOrder.map((o) => d[o])]),
        }}
      >
        <BarChart
          accessibilityLayer={false}
          data={days}
          margin={{ top: 8, right: 8, bottom: 0, left: -16 }}
        >
          <CartesianGrid stroke="#1e293b" vertical={false} />
          <XAxis dataKey="label" {...axis} minTickGap={12} />
          <YAxis allowDecimals={false} {...axis} />
          <Tooltip {...tooltip} />
          <Legend itemSorter={null} wrapperStyle={{ fontSize: 12, color: "#cbd5e1" }} />
          {stackOrder.map((o, i) => (
            <Bar
              key={o}
              dataKey={o}
              name={outcomeLabel[o]}
              stackId="outcomes"
              fill={outcomeColor[o]}
              radius={i === stackOrder.length - 1 ? [4, 4, 0, 0] : undefined}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ChartCard>
    </div>
  );
}

/**
 * A chart with a heading, a text summary for screen readers, and the same numbers as a
 * (visually hidden) table.
 */
function ChartCard({
  title,
  summary,
  empty,
  table,
  children,
}: {
  title: string;
  summary: string;
  empty: string | null;
  table: { head: string[]; rows: Array<Array<string | number>> };
  children: React.ReactElement;
}) {
  const headingId = useId();
  return (
    <section
      aria-labelledby={headingId}
      className="relative rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-5"
    >
      <h2 id={headingId} className="text-sm font-semibold text-slate-200">
        {title}
      </h2>
      {empty ? (
        <p className="flex h-56 items-center justify-center text-sm text-slate-400">{empty}</p>
      ) : (
        <div role="img" aria-label={`${title}. ${summary}.`} className="mt-3 h-56">
          <ResponsiveContainer width="100%" height="100%">
            {children}
          </ResponsiveContainer>
        </div>
      )}
      {/* A div, not the table, is visually hidden: tables ignore width: 1px and overflow: hidden. */}
      <div className="sr-only">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              {table.head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row) => (
              <tr key={String(row[0])}>
                {row.map((cell, i) =>
                  i === 0 ? (
                    <th key={i} scope="row">
                      {cell}
                    </th>
                  ) : (
                    <td key={i}>{cell}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
