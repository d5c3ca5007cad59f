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
import { isConflict, isNotFound } from "./errors";
import type { SojuBouncer } from "./types";

const ref = (namespace: string, name: string) => ({
  apiVersion: SOJU_BOUNCER_API_VERSION,
  kind: SOJU_BOUNCER_KIND,
  metadata: { namespace, name },
});
const asBouncer = (o: KubernetesObject) => o as unknown as SojuBouncer;

/** The identity and version of a SojuBouncer as read: a write is refused if it changed since. */
export interface BouncerPrecondition {
  uid: string;
  resourceVersion: string;
}

/** The precondition of a SojuBouncer as read (throws when it has no uid or resourceVersion). */
export function preconditionOf(bouncer: SojuBouncer): BouncerPrecondition {
  const { uid, resourceVersion, name } = bouncer.metadata;
  if (!uid || !resourceVersion)
    throw new Error(`SojuBouncer ${name} has no uid or resourceVersion (not read from the API)`);
  return { uid, resourceVersion };
}

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

  /**
   * Deletes every SojuBouncer of `ownerId` (an accounts-DB user id): listed by exact label
   * equality, each item's label checked again, each deleted with its uid as precondition, so a
   * namesake another user created meanwhile is never touched (409: skipped). Gone already counts
   * as deleted. `remaining`: the owner's bouncers still listed afterwards (being finalised, or
   * created meanwhile); call again until it is empty or every one is being deleted.
   */
  async deleteByOwner(ownerId: string): Promise<{ deleted: string[]; remaining: SojuBouncer[] }> {
    const owned = (b: SojuBouncer) => b.metadata.labels?.[LABEL_OWNER] === ownerId;
    const deleted: string[] = [];
    for (const bouncer of (await this.listByOwner(ownerId)).items.filter(owned)) {
      const name = bouncer.metadata.name;
      if (bouncer.metadata.deletionTimestamp) continue;
      try {
        await this.objects.delete(
          ref(this.namespace, name),
          undefined,
          undefined,
          undefined,
          undefined,
          "Background",
          { preconditions: { uid: bouncer.metadata.uid } },
        );
        deleted.push(name);
      } catch (error) {
        if (isNotFound(error) || isConflict(error)) continue;
        throw error;
      }
    }
    return { deleted, remaining: (await this.listByOwner(ownerId)).items.filter(owned) };
  }

  /** Merge-patches annotations; a null value removes the key (RFC 7386). */
  patchAnnotations(name: string, annotations: Record<string, string | null>): Promise<SojuBouncer> {
    return this.patch(name, { annotations });
  }

  /** One JSON merge patch of the object's metadata. */
  private async patch(
    name: string,
    metadata: {
      uid?: string;
      resourceVersion?: string;
      annotations: Record<string, string | null>;
    },
  ): Promise<SojuBouncer> {
    const patch = {
      ...ref(this.namespace, name),
      metadata: { namespace: this.namespace, name, ...metadata },
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

  /**
   * Sets `irc.now/upstream-configured: "true"` only on the object the caller read: the merge
   * patch carries `metadata.uid` and `metadata.resourceVersion`, which the apiserver checks
   * against the stored object. Any change since (another writer, the operator's status, a
   * delete + re-create under the same name) fails the patch and nothing is written:
   * - resourceVersion differs → 409 Conflict, `Operation cannot be fulfilled on
   *   sojubouncers.irc.now "<name>": the object has been modified; …` (`isConflict`);
   * - resourceVersion equal but uid differs (cannot happen for a real object, resourceVersions
   *   are unique) → 422 Invalid, `metadata.uid: … field is immutable`;
   * - the object is gone → 404 NotFound.
   * (Replies of a real kube-apiserver 1.24, recorded in packages/k8s/test/helpers.test.ts.)
   */
  async markConfigured(name: string, precondition: BouncerPrecondition): Promise<SojuBouncer> {
    if (precondition.uid === "" || precondition.resourceVersion === "")
      throw new Error(
        "markConfigured needs the uid and resourceVersion of the SojuBouncer the setup read",
      );
    return this.patch(name, {
      uid: precondition.uid,
      resourceVersion: precondition.resourceVersion,
      annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" },
    });
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
