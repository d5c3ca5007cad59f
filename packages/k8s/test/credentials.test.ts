/**
 * The per-user ergo credential Secret: its name (every username → a valid, distinct Secret name),
 * lookup-or-create against the Kubernetes stand-in, the create race, and no password in errors.
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import {
  createKubeClients,
  ensureErgoCredential,
  ergoAccountLabelValue,
  ErgoCredentialError,
  ergoCredentialKey,
  ergoCredentialSecretName,
  readErgoCredential,
  type KubeClients,
} from "../src/index";

const NS = "irc-now";
let kube: KubeStandin;
let clients: KubeClients;

beforeAll(async () => {
  kube = await startKubeStandin({ namespaces: [NS] });
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
  clients = createKubeClients({ kubeConfig: kc });
});
afterAll(async () => {
  await kube?.stop();
});

// DNS-1123 subdomain (Secret names) and label value syntax, as the apiserver checks them.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Every username of up to `length` characters over a small alphabet that has each kind. */
function usernames(length: number): string[] {
  const rest = ["a", "0", "_", "-"];
  let level = ["a", "z"];
  const all = [...level];
  for (let n = 2; n <= length; n++) {
    level = level.flatMap((prefix) => rest.map((c) => prefix + c));
    all.push(...level);
  }
  return all;
}

describe("ergoCredentialSecretName", () => {
  it("maps usernames to readable names, escaping what a Secret name cannot hold", () => {
    expect(ergoCredentialSecretName("alice")).toBe("irc-now-ergo-alice");
    expect(ergoCredentialSecretName("jean-luc")).toBe("irc-now-ergo-jean-luc");
    expect(ergoCredentialSecretName("a--b")).toBe("irc-now-ergo-a--b");
    expect(ergoCredentialSecretName("a_b")).toBe("irc-now-ergo-a.ub");
    expect(ergoCredentialSecretName("bob-")).toBe("irc-now-ergo-bob.d");
    expect(ergoCredentialSecretName("bob_")).toBe("irc-now-ergo-bob.u");
    expect(ergoCredentialSecretName("a-_b")).toBe("irc-now-ergo-a.d.ub");
    expect(ergoCredentialSecretName("a_-b")).toBe("irc-now-ergo-a.u-b");
    expect(ergoCredentialSecretName("a__")).toBe("irc-now-ergo-a.u.u");
  });

  it("is collision-free and always a valid Secret name and label value (every username up to 6 characters, and the longest)", () => {
    const all = [
      ...usernames(6),
      `a${"_".repeat(31)}`,
      `a${"-".repeat(31)}`,
      `a${"-_".repeat(15)}-`,
    ];
    const names = new Set<string>();
    for (const username of all) {
      const name = ergoCredentialSecretName(username);
      expect(name, username).toMatch(DNS1123_SUBDOMAIN);
      expect(name.length).toBeLessThanOrEqual(253);
      for (const part of name.split(".")) expect(part.length).toBeLessThanOrEqual(63);
      const label = ergoAccountLabelValue(username);
      expect(label, username).toMatch(LABEL_VALUE);
      expect(label.length).toBeLessThanOrEqual(63);
      names.add(name);
    }
    expect(names.size).toBe(all.length);
    // Label values are distinct too, and the username itself wherever it is a valid one.
    expect(new Set(all.map(ergoAccountLabelValue)).size).toBe(all.length);
    expect(ergoAccountLabelValue("a_b")).toBe("a_b");
    expect(ergoAccountLabelValue("bob_")).toBe(ergoCredentialKey("bob_"));
  });

  it("refuses what is not an irc.now username", () => {
    for (const bad of ["", "Alice", "1abc", "a.b", "a b", "a".repeat(33), "é"])
      expect(() => ergoCredentialSecretName(bad), bad).toThrow(ErgoCredentialError);
  });
});

describe("readErgoCredential / ensureErgoCredential", () => {
  it("lookup-or-create: creates once with the candidate, then returns the stored password", async () => {
    expect(await readErgoCredential(clients.core, NS, "alice")).toBeNull();
    let asked = 0;
    const candidate = async () => {
      asked += 1;
      return `Alice-pw-${asked}`;
    };
    expect(await ensureErgoCredential(clients.core, NS, "alice", candidate)).toEqual({
      password: "Alice-pw-1",
      created: true,
    });
    expect(await ensureErgoCredential(clients.core, NS, "alice", candidate)).toEqual({
      password: "Alice-pw-1",
      created: false,
    });
    expect(asked).toBe(1);
    expect(await readErgoCredential(clients.core, NS, "alice")).toBe("Alice-pw-1");

    const secret = kube.objects.get("secrets", NS, "irc-now-ergo-alice");
    expect(secret.metadata.labels).toEqual({
      "irc.now/ergo-account": "alice",
      "app.kubernetes.io/managed-by": "irc-now-portal",
    });
    expect(secret.metadata.annotations).toEqual({ "irc.now/ergo-account": "alice" });
    expect(secret.type).toBe("Opaque");
    expect(secret.data).toEqual({ password: Buffer.from("Alice-pw-1").toString("base64") });
  });

  it("usernames with _ and a trailing - get their own Secrets", async () => {
    const a = await ensureErgoCredential(clients.core, NS, "ab_", async () => "pw-ab_");
    const b = await ensureErgoCredential(clients.core, NS, "ab-", async () => "pw-ab-");
    expect([a, b]).toEqual([
      { password: "pw-ab_", created: true },
      { password: "pw-ab-", created: true },
    ]);
    expect(kube.objects.get("secrets", NS, "irc-now-ergo-ab.u").metadata.annotations).toEqual({
      "irc.now/ergo-account": "ab_",
    });
    expect(await readErgoCredential(clients.core, NS, "ab-")).toBe("pw-ab-");
  });

  it("two concurrent ensures for one user both end with the same password (the create race's winner)", async () => {
    // Both look the Secret up before either creates it: one create wins, the other gets 409
    // AlreadyExists and reads the winner's value.
    let arrived = 0;
    let bothArrived!: () => void;
    const barrier = new Promise<void>((resolve) => (bothArrived = resolve));
    const candidate = (value: string) => async () => {
      arrived += 1;
      if (arrived === 2) bothArrived();
      await barrier;
      return value;
    };
    const results = await Promise.all([
      ensureErgoCredential(clients.core, NS, "racer", candidate("Racer-pw-A")),
      ensureErgoCredential(clients.core, NS, "racer", candidate("Racer-pw-B")),
    ]);
    expect(arrived).toBe(2);
    expect(results[0]!.password).toBe(results[1]!.password);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    const winner = results.find((r) => r.created)!.password;
    expect(await readErgoCredential(clients.core, NS, "racer")).toBe(winner);
    expect(
      kube.objects.list("secrets", NS, { labelSelector: "irc.now/ergo-account=racer" }).items,
    ).toHaveLength(1);
  });

  it("errors name the Secret, never the password", async () => {
    kube.objects.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "irc-now-ergo-broken", namespace: NS },
      data: { other: Buffer.from("x").toString("base64") },
    });
    await expect(readErgoCredential(clients.core, NS, "broken")).rejects.toThrow(
      'secret irc-now-ergo-broken has no "password" key',
    );

    // A service account that may read Secrets but not create them.
    kube.setUser("reader", {
      name: "reader",
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }],
    });
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeConfigYaml("reader"));
    const core = kc.makeApiClient(CoreV1Api);
    const error = (await ensureErgoCredential(
      core,
      NS,
      "denied",
      async () => "Denied-secret-pw",
    ).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(ErgoCredentialError);
    expect(error.message).toMatch(
      /^could not create secret irc-now\/irc-now-ergo-denied: Kubernetes API 403/,
    );
    expect(error.message).not.toContain("Denied-secret-pw");
    expect(error.message).not.toContain(Buffer.from("Denied-secret-pw").toString("base64"));
    expect(String(error.cause ?? "")).not.toContain("Denied-secret-pw");
  });
});
