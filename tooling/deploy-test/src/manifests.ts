/** deploy/ rendered by kustomize, as plain objects. */
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { kubectl, REPO_ROOT } from "./kubectl";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export const DEPLOY_DIR = join(REPO_ROOT, "deploy");

/** `kubectl kustomize deploy/<dir>` as YAML text. */
export function renderYaml(dir: string): string {
  return kubectl(["kustomize", join(DEPLOY_DIR, dir)]);
}

export function parseYaml(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function render(dir: string): K8sObject[] {
  return parseYaml(renderYaml(dir));
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
}
