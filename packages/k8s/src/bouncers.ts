import {
  PatchStrategy,
  type KubernetesObject,
  type KubernetesObjectApi,
} from "@kubernetes/client-node";
import {
  ANNOTATION_RETRY_REQUESTED_AT,
  ANNOTATION_UPSTREAM_CONFIGURED,
  LABEL_MANAGED_BY,
  LABEL_OWNER,
  MANAGED_BY_PORTAL,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_KIND,
  type SojuBouncerPlan,
} from "./crd";
import { isNotFound } from "./errors";
import type { SojuBouncer } from "./types";

const ref = (namespace: string, name: string) => ({
  apiVersion: SOJU_BOUNCER_API_VERSION,
  kind: SOJU_BOUNCER_KIND,
  metadata: { namespace, name },
});
const asBouncer = (o: KubernetesObject) => o as unknown as SojuBouncer;

export interface NewBouncer {
  name: string;
  username: string;
  plan: SojuBouncerPlan;
  /** accounts DB user id of the owner. */
  ownerId: string;
}

/** Typed access to SojuBouncer CRs in one namespace. */
export class BouncerApi {
  constructor(
    private readonly objects: KubernetesObjectApi,
    readonly namespace: string,
  ) {}

  async list(
    options: { labelSelector?: string } = {},
  ): Promise<{ items: SojuBouncer[]; resourceVersion?: string }> {
    const list = await this.objects.list(
      SOJU_BOUNCER_API_VERSION,
      SOJU_BOUNCER_KIND,
      this.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      options.labelSelector,
    );
    return { items: list.items.map(asBouncer), resourceVersion: list.metadata?.resourceVersion };
  }

  listByOwner(ownerId: string): Promise<{ items: SojuBouncer[] }> {
    return this.list({ labelSelector: `${LABEL_OWNER}=${ownerId}` });
  }

  /** null when it does not exist. */
  async get(name: string): Promise<SojuBouncer | null> {
    try {
      return asBouncer(await this.objects.read(ref(this.namespace, name)));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async create(bouncer: NewBouncer): Promise<SojuBouncer> {
    const body: SojuBouncer = {
      apiVersion: SOJU_BOUNCER_API_VERSION,
      kind: SOJU_BOUNCER_KIND,
      metadata: {
        name: bouncer.name,
        namespace: this.namespace,
        labels: { [LABEL_OWNER]: bouncer.ownerId, [LABEL_MANAGED_BY]: MANAGED_BY_PORTAL },
      },
      spec: { username: bouncer.username, plan: bouncer.plan },
    };
    return asBouncer(await this.objects.create(body as unknown as KubernetesObject));
  }

  /** true when deleted, false when it was already gone. */
  async delete(name: string): Promise<boolean> {
    try {
      await this.objects.delete(ref(this.namespace, name));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Merge-patches annotations; a null value removes the key (RFC 7386). */
  async patchAnnotations(
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<SojuBouncer> {
    const patch = {
      ...ref(this.namespace, name),
      metadata: { namespace: this.namespace, name, annotations },
    };
    return asBouncer(
      await this.objects.patch(
        patch as unknown as KubernetesObject,
        undefined,
        undefined,
        "irc-now",
        undefined,
        PatchStrategy.MergePatch,
      ),
    );
  }

  markConfigured(name: string): Promise<SojuBouncer> {
    return this.patchAnnotations(name, { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" });
  }

  /**
   * Admin "retry": the worker runs setup again for a bouncer without the annotation. The
   * timestamp annotation makes this a real change even when the annotation was already gone,
   * so the worker's watch sees an event and retries at once instead of after its backoff.
   */
  clearConfigured(name: string, requestedAt: Date = new Date()): Promise<SojuBouncer> {
    return this.patchAnnotations(name, {
      [ANNOTATION_UPSTREAM_CONFIGURED]: null,
      [ANNOTATION_RETRY_REQUESTED_AT]: requestedAt.toISOString(),
    });
  }
}
