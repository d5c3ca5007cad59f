/** Shared test plumbing: client-node clients pointed at a stand-in, error and watch helpers. */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  Watch,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { expect, vi } from "vitest";
import type { KubeStandin, Status } from "../../src/kube/index";

export const NS = "irc-now";
export const GROUP = "irc.now";
export const VERSION = "v1alpha1";
export const PLURAL = "sojubouncers";
export const CR = "sojubouncers.irc.now";

export interface SojuBouncer extends KubernetesObject {
  spec?: { username?: string; plan?: string; [k: string]: unknown };
  status?: { conditions?: Array<Record<string, unknown>>; [k: string]: unknown };
}

export function clientsFor(kube: KubeStandin, token?: string) {
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml(token));
  return {
    kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    watch: new Watch(kc),
    exec: new Exec(kc),
  };
}

/** A SojuBouncer request body: plain JSON, usable with client-node and the stand-in's own API. */
export type BouncerBody = {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: Record<string, unknown>;
};

export function bouncer(
  name: string,
  spec: Record<string, unknown> = { username: name, plan: "free" },
  metadata: BouncerBody["metadata"] = {},
): BouncerBody {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "SojuBouncer",
    metadata: { name, namespace: NS, ...metadata },
    spec,
  };
}

/** The spec of an object read through the stand-in's own API. */
export function specOf(obj: { [field: string]: unknown }): { username?: string; plan?: string } {
  return (obj.spec ?? {}) as { username?: string; plan?: string };
}

/** Awaits a rejected client call and returns its HTTP code and Status body. */
export async function apiError(call: Promise<unknown>): Promise<{ code: number; status: Status }> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<unknown>;
    const status = (
      typeof e.body === "string" && e.body !== "" ? JSON.parse(e.body) : e.body
    ) as Status;
    return { code: e.code, status };
  }
  throw new Error("expected the call to fail");
}

export interface RecordedEvent {
  type: string;
  object: KubernetesObject & Record<string, unknown>;
}

/** A client-node Watch whose events are recorded until `stop()`. */
export class WatchRecorder {
  readonly events: RecordedEvent[] = [];
  ended = false;
  endError: unknown = undefined;
  private controller: AbortController | undefined;

  static async start(
    watch: Watch,
    path: string,
    query: Record<string, string | number | boolean> = {},
  ): Promise<WatchRecorder> {
    const recorder = new WatchRecorder();
    recorder.controller = await watch.watch(
      path,
      query,
      (type, object: KubernetesObject & Record<string, unknown>) =>
        recorder.events.push({ type, object }),
      (err) => {
        recorder.ended = true;
        recorder.endError = err;
      },
    );
    return recorder;
  }

  /** Waits until an event matching `predicate` arrived; returns it. */
  async next(predicate: (e: RecordedEvent) => boolean): Promise<RecordedEvent> {
    return vi.waitFor(
      () => {
        const found = this.events.find(predicate);
        if (found === undefined)
          throw new Error(
            `no matching event yet; saw ${this.events.map((e) => `${e.type}:${e.object.metadata?.name ?? ""}`).join(", ")}`,
          );
        return found;
      },
      { timeout: 10_000, interval: 10 },
    );
  }

  async untilEnded(): Promise<void> {
    await vi.waitFor(
      () => {
        if (!this.ended) throw new Error("watch still open");
      },
      { timeout: 10_000, interval: 10 },
    );
  }

  summary(): string[] {
    return this.events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`.trim());
  }

  stop(): void {
    this.controller?.abort();
  }
}

export function crPath(namespace: string = NS): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
}
