/**
 * The SojuBouncer CRD manifest and its constants agree, and the stand-in serves whatever a
 * CRD declares (scope, status subresource, schema).
 */
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  LABEL_BOUNCER,
  LABEL_MANAGED_BY,
  LABEL_OWNER,
  loadSojuBouncerCrd,
  parseCustomResourceDefinition,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_GROUP,
  SOJU_BOUNCER_KIND,
  SOJU_BOUNCER_PLANS,
  SOJU_BOUNCER_PLURAL,
  SOJU_BOUNCER_VERSION,
  type CustomResourceDefinition,
} from "@irc-now/k8s";
import { describe, expect, it } from "vitest";
import { startKubeStandin } from "../../src/kube/index";
import { apiError, clientsFor } from "./helpers";

describe("SojuBouncer CRD manifest", () => {
  const crd = loadSojuBouncerCrd();
  const version = crd.spec.versions[0];

  it("matches the exported group, version, kind and plural", () => {
    expect(crd.metadata.name).toBe(`${SOJU_BOUNCER_PLURAL}.${SOJU_BOUNCER_GROUP}`);
    expect(crd.spec.group).toBe(SOJU_BOUNCER_GROUP);
    expect(crd.spec.names).toMatchObject({ plural: SOJU_BOUNCER_PLURAL, kind: SOJU_BOUNCER_KIND });
    expect(crd.spec.scope).toBe("Namespaced");
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({
      name: SOJU_BOUNCER_VERSION,
      served: true,
      storage: true,
      subresources: { status: {} },
    });
    expect(SOJU_BOUNCER_API_VERSION).toBe("irc.now/v1alpha1");
  });

  it("declares the contract's schema and printer columns", () => {
    const schema = version?.schema?.openAPIV3Schema;
    const spec = schema?.properties?.spec;
    expect(spec?.required).toContain("username");
    expect(spec?.properties?.plan?.enum).toEqual([...SOJU_BOUNCER_PLANS]);
    const condition = schema?.properties?.status?.properties?.conditions?.items;
    expect(condition?.properties?.status?.enum).toEqual(["True", "False", "Unknown"]);
    expect(condition?.properties?.lastTransitionTime?.format).toBe("date-time");
    expect(Object.keys(condition?.properties ?? {})).toEqual(
      expect.arrayContaining(["type", "status", "reason", "message", "lastTransitionTime"]),
    );
    expect(version?.additionalPrinterColumns?.map((c) => c.name)).toEqual(["Ready", "Age"]);
  });

  it("exports the label and annotation keys of the contract", () => {
    expect([ANNOTATION_UPSTREAM_CONFIGURED, LABEL_OWNER, LABEL_BOUNCER, LABEL_MANAGED_BY]).toEqual([
      "irc.now/upstream-configured",
      "irc.now/owner",
      "irc.now/bouncer",
      "app.kubernetes.io/managed-by",
    ]);
  });

  it("refuses a document that is not a CRD", () => {
    expect(() => parseCustomResourceDefinition("apiVersion: v1\nkind: ConfigMap\n")).toThrow(
      /CustomResourceDefinition/,
    );
  });
});

describe("serving another CRD", () => {
  const widgets: CustomResourceDefinition = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Cluster",
      names: { plural: "widgets", kind: "Widget" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", properties: { size: { type: "integer", minimum: 1 } } },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  };

  it("serves a cluster-scoped CRD without a status subresource: status is ordinary data", async () => {
    const kube = await startKubeStandin({ crds: [widgets] });
    try {
      const { custom, objects } = clientsFor(kube);
      const ref = { group: "example.com", version: "v1", plural: "widgets" };
      const created = (await custom.createClusterCustomObject({
        ...ref,
        body: {
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "w" },
          spec: { size: 2 },
          status: { seen: true },
        },
      })) as Record<string, unknown>;
      expect(created.status).toEqual({ seen: true });
      const viaDiscovery = await objects.read({
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w" },
      });
      expect(viaDiscovery.metadata?.namespace).toBeUndefined();
      const { code } = await apiError(
        custom.createClusterCustomObject({
          ...ref,
          body: {
            apiVersion: "example.com/v1",
            kind: "Widget",
            metadata: { name: "z" },
            spec: { size: 0 },
          },
        }),
      );
      expect(code).toBe(422);
      const sojuPath = await apiError(
        custom.listNamespacedCustomObject({
          group: "irc.now",
          version: "v1alpha1",
          namespace: "irc-now",
          plural: "sojubouncers",
        }),
      );
      expect(sojuPath.code).toBe(404);
    } finally {
      await kube.stop();
    }
  });
});
