import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as config from "@irc-now/config";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../../src/kubectl";
import { find, render, type K8sObject } from "../../src/manifests";
import { ACCOUNT_VERBS, NAMESPACE, verbsOfRole } from "../../src/policy";

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is walked as plain data */

const base = render("base");
const production = render("overlays/production");
const migrate = render("overlays/production/migrate");
const all = [...production, ...migrate];

/** Every variable @irc-now/config declares (DESIGN.md's table plus the documented additions). */
const declared = new Set(
  Object.values(config as Record<string, unknown>)
    .filter((v): v is { name: string; shape: Record<string, unknown> } =>
      Boolean(v && typeof v === "object" && "shape" in v && "name" in v),
    )
    .flatMap((area) => Object.keys(area.shape)),
);
/** Set for the runtime, not the app's configuration. */
const RUNTIME_ENV = new Set(["HOSTNAME"]);

const podSpecs = (objects: K8sObject[]) =>
  objects
    .filter((o) => o.kind === "Deployment" || o.kind === "Job")
    .map((o) => ({
      name: o.metadata.name,
      pod: (o as any).spec.template.spec,
      labels: (o as any).spec.template.metadata.labels as Record<string, string>,
    }));

function containerEnv(objects: K8sObject[], deployment: string): Record<string, string> {
  const pod = (find(objects, "Deployment", deployment) as any).spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(env, (find(objects, "ConfigMap", from.configMapRef.name) as any).data);
  for (const e of container.env ?? [])
    env[e.name] = e.value ?? (e.valueFrom.secretKeyRef.optional ? undefined : `secret-${e.name}`);
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

describe("deploy/ rendered with kustomize", () => {
  it("holds the CRD of packages/k8s unchanged", () => {
    const ours = parse(readFileSync(join(REPO_ROOT, "packages/k8s/crd/sojubouncer.yaml"), "utf8"));
    const { labels: _labels, ...metadata } = (
      find(base, "CustomResourceDefinition", "sojubouncers.irc.now") as any
    ).metadata;
    const crd = find(base, "CustomResourceDefinition", "sojubouncers.irc.now") as any;
    expect({ ...crd, metadata }).toEqual(ours);
  });

  it("puts every namespaced object in irc-now", () => {
    for (const o of all) {
      if (["Namespace", "CustomResourceDefinition"].includes(o.kind)) continue;
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
    }
  });

  it("runs web with ≥ 2 replicas and the worker with 2 and leader election", () => {
    expect((find(base, "Deployment", "irc-now-web") as any).spec.replicas).toBeGreaterThanOrEqual(
      2,
    );
    expect(
      (find(production, "Deployment", "irc-now-web") as any).spec.replicas,
    ).toBeGreaterThanOrEqual(2);
    expect((find(production, "Deployment", "irc-now-worker") as any).spec.replicas).toBe(2);
    expect(containerEnv(production, "irc-now-worker").LEADER_ELECTION).toBe("true");
  });

  it("hardens every pod and container, with requests and a memory limit", () => {
    for (const { name, pod } of podSpecs(all)) {
      expect(pod.securityContext, name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.securityContext.runAsUser, name).toBeGreaterThan(0);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext, `${name}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources.requests.cpu, name).toBeDefined();
        expect(c.resources.requests.memory, name).toBeDefined();
        expect(c.resources.limits.memory, name).toBeDefined();
      }
    }
  });

  it("writes only to emptyDir volumes (Next's cache, /tmp)", () => {
    const web = (find(production, "Deployment", "irc-now-web") as any).spec.template.spec;
    expect(web.containers[0].volumeMounts.map((m: any) => m.mountPath).sort()).toEqual([
      "/app/apps/web/.next/cache",
      "/tmp",
    ]);
    for (const { pod } of podSpecs(all))
      for (const v of pod.volumes ?? [])
        expect(Object.keys(v).sort()).toEqual(["emptyDir", "name"]);
  });

  it("probes the endpoints the apps serve", () => {
    const probe = (d: string, kind: string) =>
      (find(production, "Deployment", d) as any).spec.template.spec.containers[0][kind];
    expect(probe("irc-now-web", "readinessProbe").httpGet.path).toBe("/api/healthz");
    expect(probe("irc-now-web", "startupProbe").httpGet.path).toBe("/api/healthz");
    expect(probe("irc-now-worker", "livenessProbe").httpGet.path).toBe("/healthz");
    expect(probe("irc-now-worker", "readinessProbe").httpGet.path).toBe("/readyz");
  });

  it("configures the apps with @irc-now/config's variable names only", () => {
    for (const o of all.filter((o) => o.kind === "ConfigMap"))
      for (const key of Object.keys((o as any).data)) expect(declared, key).toContain(key);
    for (const { name, pod } of podSpecs(all))
      for (const e of pod.containers[0].env ?? [])
        expect(declared.has(e.name) || RUNTIME_ENV.has(e.name), `${name}: ${e.name}`).toBe(true);
  });

  it("gives the worker a configuration its own loader accepts", async () => {
    const { loadWorkerConfig } = await import("../../../../apps/worker/src/env");
    const env = containerEnv(production, "irc-now-worker");
    expect(() =>
      loadWorkerConfig({ ...env, DATABASE_URL: "postgresql://u:p@db:5432/accounts" }),
    ).not.toThrow();
    expect(env.WORKER_HOST).toBe("0.0.0.0");
  });

  it("gives web and worker the same plans (the worker's grace check re-evaluates them) and the worker an optional Stripe key", async () => {
    const web = containerEnv(production, "irc-now-web");
    const worker = containerEnv(production, "irc-now-worker");
    for (const name of ["PLAN_QUOTA_FREE", "PLAN_QUOTA_PRO", "PRO_GRACE_DAYS"]) {
      expect(worker[name], name).toBeDefined();
      expect(worker[name], name).toBe(web[name]);
    }
    const pod = (find(production, "Deployment", "irc-now-worker") as any).spec.template.spec;
    const stripe = pod.containers[0].env.find((e: any) => e.name === "STRIPE_SECRET_KEY");
    expect(stripe?.valueFrom?.secretKeyRef).toEqual({
      name: "irc-now-worker",
      key: "STRIPE_SECRET_KEY",
      optional: true,
    });
    // with the key present (a Secret that has it) the loader takes it too
    const { loadWorkerConfig } = await import("../../../../apps/worker/src/env");
    const config = loadWorkerConfig({
      ...worker,
      DATABASE_URL: "postgresql://u:p@db:5432/accounts",
      STRIPE_SECRET_KEY: "sk_live_deploytest",
    });
    expect(config.STRIPE_SECRET_KEY).toBe("sk_live_deploytest");
    expect(config.PRO_GRACE_DAYS).toBe(Number(web.PRO_GRACE_DAYS));
  });

  it("never routes /api/soju/ to the web from the Ingress (longest prefix wins)", () => {
    const ingress = find(production, "Ingress", "irc-now-web") as any;
    expect(ingress.spec.tls[0].secretName).toBeTruthy();
    const paths: { path: string; pathType: string; backend: any }[] = ingress.spec.rules.flatMap(
      (r: any) => r.http.paths,
    );
    const route = (url: string) =>
      paths
        .filter(
          (p) =>
            p.pathType === "Prefix" &&
            (url === p.path || url.startsWith(`${p.path.replace(/\/$/, "")}/`) || p.path === "/"),
        )
        .sort((a, b) => b.path.length - a.path.length)[0]!.backend.service.name;
    expect(route("/api/soju/auth/alice")).toBe("irc-now-refuse");
    expect(route("/api/soju")).toBe("irc-now-refuse");
    expect(route("/api/trpc/bouncer.list")).toBe("irc-now-web");
    expect(route("/")).toBe("irc-now-web");
    // The refusing Service selects no pod of these manifests.
    const selector = (find(production, "Service", "irc-now-refuse") as any).spec.selector;
    for (const { name, labels } of podSpecs(all))
      expect(
        Object.entries(selector).every(([k, v]) => labels[k] === v),
        name,
      ).toBe(false);
  });

  it("admits to the web only the ingress controller and soju pods; to the worker only Prometheus", () => {
    const web = (find(production, "NetworkPolicy", "irc-now-web") as any).spec;
    expect(web.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(web.ingress.map((r: any) => r.ports)).toEqual([
      [{ protocol: "TCP", port: 3000 }],
      [{ protocol: "TCP", port: 3000 }],
    ]);
    expect(web.ingress[1].from).toEqual([
      { podSelector: { matchExpressions: [{ key: "irc.now/bouncer", operator: "Exists" }] } },
    ]);
    const worker = (find(production, "NetworkPolicy", "irc-now-worker") as any).spec;
    expect(worker.ingress).toHaveLength(1);
    expect(worker.ingress[0].ports).toEqual([{ protocol: "TCP", port: 9464 }]);
    expect(worker.ingress[0].from[0].podSelector.matchLabels).toEqual({
      "app.kubernetes.io/name": "prometheus",
    });
  });

  it("has a disruption budget for web and worker", () => {
    for (const name of ["irc-now-web", "irc-now-worker"])
      expect(
        (find(production, "PodDisruptionBudget", name) as any).spec.selector.matchLabels,
      ).toEqual({
        "app.kubernetes.io/name": name,
      });
  });

  it("grants each ServiceAccount exactly the verbs of the table, in its namespace only", () => {
    expect(all.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual(
      [],
    );
    for (const [account, table] of Object.entries(ACCOUNT_VERBS)) {
      find(all, "ServiceAccount", account);
      const bindings = all.filter(
        (o) =>
          o.kind === "RoleBinding" &&
          (o as any).subjects.some((s: any) => s.kind === "ServiceAccount" && s.name === account),
      );
      const rules = bindings.flatMap(
        (b) => (find(all, "Role", (b as any).roleRef.name) as any).rules,
      );
      expect(verbsOfRole(rules), account).toEqual(table);
    }
  });

  it("runs the migrations with the worker image's migrator and no Kubernetes token", () => {
    const job = find(migrate, "Job", "irc-now-migrate") as any;
    const pod = job.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].args).toEqual(["dist/migrate.js"]);
    const worker = (find(production, "Deployment", "irc-now-worker") as any).spec.template.spec;
    expect(pod.containers[0].image).toBe(worker.containers[0].image);
  });
  it("alerts only on metrics the worker exports, and scrapes its metrics port", () => {
    const monitoring = render("monitoring");
    // Every metric the worker registers, wherever its module lives (metrics/, billing/, …).
    const workerSrc = join(REPO_ROOT, "apps/worker/src");
    const source = readdirSync(workerSrc, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(join(workerSrc, f), "utf8"))
      .join("\n");
    const exported = new Set([...source.matchAll(/name: "(irc_now_[a-z_]+)"/g)].map((m) => m[1]));
    const rules = (find(monitoring, "PrometheusRule", "irc-now-worker") as any).spec.groups[0]
      .rules;
    expect(rules.map((r: any) => r.alert)).toEqual(
      expect.arrayContaining([
        "IrcNowBouncersUnauthenticated",
        "IrcNowSetupFailuresRising",
        "IrcNowNoWorkerLeader",
        "IrcNowOutboxStuck",
        "IrcNowAccountDeletionStuck",
        "IrcNowSuspensionsStuck",
      ]),
    );
    for (const rule of rules)
      for (const [metric] of String(rule.expr).matchAll(/irc_now_[a-z_]+/g))
        expect(exported, `${rule.alert}: ${metric}`).toContain(metric);
    const monitor = (find(monitoring, "ServiceMonitor", "irc-now-worker") as any).spec;
    const service = find(production, "Service", "irc-now-worker-metrics") as any;
    expect(service.spec.ports.map((p: any) => p.name)).toContain(monitor.endpoints[0].port);
    expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels);
  });
  it("runs the worker with the Node flags the RSS bench measures", async () => {
    const { WORKER_NODE_FLAGS } = await import("../../../bench/src/worker/rss");
    const worker = (find(production, "Deployment", "irc-now-worker") as any).spec.template.spec;
    expect(worker.containers[0].args).toEqual([...WORKER_NODE_FLAGS, "dist/main.js"]);
  });
});
