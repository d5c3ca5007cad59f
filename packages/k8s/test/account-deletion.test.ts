/**
 * What deleting an account asks of Kubernetes (issue 13): a user's SojuBouncers deleted by their
 * owner label and nobody else's, and the user's ergo credential Secret deleted; gone already
 * counts as done. Against the Kubernetes stand-in.
 */
import { randomUUID } from "node:crypto";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import {
  BouncerApi,
  createKubeClients,
  deleteErgoCredential,
  ensureErgoCredential,
  ergoCredentialSecretName,
  readErgoCredential,
  type KubeClients,
} from "../src/index";

const NS = "irc-now";
let kube: KubeStandin;
let clients: KubeClients;
let bouncers: BouncerApi;

beforeAll(async () => {
  kube = await startKubeStandin({ namespaces: [NS] });
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
  clients = createKubeClients({ kubeConfig: kc });
  bouncers = new BouncerApi(clients.objects, NS);
});
afterAll(async () => {
  await kube?.stop();
});

const names = async () => (await bouncers.list()).items.map((b) => b.metadata.name).sort();

describe("BouncerApi.deleteByOwner", () => {
  it("deletes exactly the owner's bouncers; a second call finds nothing to do", async () => {
    const al = randomUUID();
    const alice = randomUUID();
    await bouncers.create({ name: "al-one", username: "al", plan: "pro", ownerId: al });
    await bouncers.create({ name: "al-two", username: "al", plan: "pro", ownerId: al });
    await bouncers.create({ name: "alice", username: "alice", plan: "free", ownerId: alice });

    const first = await bouncers.deleteByOwner(al);
    expect(first.deleted.sort()).toEqual(["al-one", "al-two"]);
    expect(first.remaining).toEqual([]);
    expect(await names()).toEqual(["alice"]);

    await expect(bouncers.deleteByOwner(al)).resolves.toEqual({ deleted: [], remaining: [] });
    expect(await names()).toEqual(["alice"]);
    await bouncers.delete("alice");
  });
});

describe("deleteErgoCredential", () => {
  it("deletes the user's Secret only; gone already is false, not an error", async () => {
    await ensureErgoCredential(clients.core, NS, "al", async () => "al-password-1");
    await ensureErgoCredential(clients.core, NS, "alice", async () => "alice-password-1");
    await ensureErgoCredential(clients.core, NS, "al_", async () => "al_-password-1");

    await expect(deleteErgoCredential(clients.core, NS, "al")).resolves.toBe(true);
    await expect(readErgoCredential(clients.core, NS, "al")).resolves.toBeNull();
    await expect(readErgoCredential(clients.core, NS, "alice")).resolves.toBe("alice-password-1");
    await expect(readErgoCredential(clients.core, NS, "al_")).resolves.toBe("al_-password-1");
    await expect(deleteErgoCredential(clients.core, NS, "al")).resolves.toBe(false);
    expect(ergoCredentialSecretName("al")).toBe("irc-now-ergo-al");
  });
});
