import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";

/** `SOJU_POD_SELECTOR` with `{name}` replaced, e.g. `irc.now/bouncer=alice`. */
export function podSelectorFor(template: string, bouncer: string): string {
  return template.split("{name}").join(bouncer);
}

/** The bouncer's pods, running ones first (exec needs a running pod). */
export async function findBouncerPods(
  core: CoreV1Api,
  namespace: string,
  selectorTemplate: string,
  bouncer: string,
): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({
    namespace,
    labelSelector: podSelectorFor(selectorTemplate, bouncer),
  });
  const rank = (p: V1Pod) =>
    p.status?.phase === "Running" && !p.metadata?.deletionTimestamp ? 0 : 1;
  return [...list.items].sort((a, b) => rank(a) - rank(b));
}
