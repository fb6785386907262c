import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { EVALUATION_QUEUE } from "@goat/contracts/evaluation-job";

// deploy/k8s (docs/deployment.md, "Kubernetes"): no cluster runs here, so each manifest is checked
// against the Kubernetes and KEDA JSON schemas (kubernetes-models / @kubernetes-models/keda: the
// upstream OpenAPI schemas compiled into validators) and against what the app needs of it.

const DIR = path.resolve(__dirname, "../../deploy/k8s");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;

/** The schema validator for each apiVersion/kind these manifests use. */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "networking.k8s.io/v1/Ingress": Ingress,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

function validate(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest as never).validate();
}

const files = readdirSync(DIR).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(DIR, file), "utf8")).map((doc) => ({ ...(doc.toJSON() as Manifest), file })),
);
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name)!;
const env = (container: Manifest, name: string) => container.env.find((e: Manifest) => e.name === name);
const config = named("ConfigMap", "goat-config").data;
const workers = byKind("Deployment").filter((d) => d.metadata.labels["app.kubernetes.io/name"] === "goat-worker");

describe("deploy/k8s", () => {
  it.each(manifests.map((m) => [`${m.file}: ${m.kind} ${m.metadata?.name}`, m] as const))("%s is valid against its schema", (_, manifest) => {
    expect(() => validate(manifest)).not.toThrow();
  });

  it("the schema validator rejects a wrong type and a missing required field (it can fail)", () => {
    const web = structuredClone(named("Deployment", "goat-web"));
    web.spec.template.spec.containers[0].ports[0].containerPort = "8000x";
    expect(() => validate(web)).toThrow(/containerPort must be integer/);
    const scaled = structuredClone(named("ScaledObject", "goat-worker-shared"));
    delete scaled.spec.scaleTargetRef;
    expect(() => validate(scaled)).toThrow(/scaleTargetRef/);
  });

  it("kustomization.yaml lists every manifest file", () => {
    const kustomization = parseAllDocuments(readFileSync(path.join(DIR, "kustomization.yaml"), "utf8"))[0].toJSON();
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it("every Deployment's selector matches its pod labels, and the web Service and Ingress reach the web pods' port", () => {
    for (const deployment of byKind("Deployment")) {
      expect(deployment.spec.template.metadata.labels, deployment.metadata.name).toMatchObject(deployment.spec.selector.matchLabels);
    }
    const web = named("Deployment", "goat-web");
    expect(web.spec.replicas).toBeGreaterThan(1);
    const service = named("Service", "goat-web");
    expect(web.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const portNames = web.spec.template.spec.containers[0].ports.map((p: Manifest) => p.name);
    expect(portNames).toContain(service.spec.ports[0].targetPort);
    const backend = named("Ingress", "goat-web").spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: "goat-web", port: { name: service.spec.ports[0].name } });
    expect(web.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe("/api/health");
  });

  it("each worker Deployment requests one GPU slice (a time-sliced GPU or a MIG profile), with CPU and memory limits", () => {
    const slices = workers.map((w) => {
      const { limits, requests } = w.spec.template.spec.containers[0].resources;
      expect(limits.cpu, w.metadata.name).toBe("1");
      expect(limits.memory, w.metadata.name).toMatch(/^\d+Gi$/);
      const gpu = Object.keys(limits).filter((resource) => resource.startsWith("nvidia.com/"));
      expect(gpu, w.metadata.name).toHaveLength(1);
      expect(limits[gpu[0]]).toBe("1");
      expect(requests[gpu[0]]).toBe("1");
      return gpu[0];
    });
    expect(slices.sort()).toEqual(["nvidia.com/gpu", "nvidia.com/mig-1g.5gb"]);
    // The memory watch needs nvidia-smi's host PIDs on a shared GPU; a MIG instance needs neither.
    const shared = named("Deployment", "goat-worker-shared").spec.template.spec;
    expect(shared.hostPID).toBe(true);
    expect(env(shared.containers[0], "GPU_MEM_LIMIT_MB").value).toBe("4096");
    const mig = named("Deployment", "goat-worker-mig-1g5gb").spec.template.spec;
    expect(mig.hostPID).toBeUndefined();
    expect(env(mig.containers[0], "GPU_MEM_LIMIT_MB")).toBeUndefined();
  });

  it("workers probe the worker's health port, have unique ids, and get the grace period their SIGTERM hand-back needs", () => {
    for (const worker of workers) {
      const spec = worker.spec.template.spec;
      const container = spec.containers[0];
      const healthPort = Number(env(container, "WORKER_HEALTH_PORT").value);
      expect(container.ports).toEqual([{ name: "health", containerPort: healthPort }]);
      expect(container.readinessProbe.httpGet).toEqual({ path: "/health", port: "health" });
      expect(container.startupProbe.httpGet).toEqual({ path: "/health", port: "health" });
      expect(env(container, "WORKER_ID").valueFrom.fieldRef.fieldPath).toBe("metadata.name");
      const handBackMs = Number(env(container, "WORKER_SHUTDOWN_TIMEOUT_MS").value);
      // The worker hands its job back at WORKER_SHUTDOWN_TIMEOUT_MS and must exit before the kubelet's SIGKILL.
      expect(spec.terminationGracePeriodSeconds * 1000 - handBackMs, worker.metadata.name).toBeGreaterThanOrEqual(5_000);
    }
  });

  it("KEDA scales each worker Deployment on BullMQ's wait list of the evaluation queue", () => {
    const waitList = `${config.QUEUE_PREFIX}:${EVALUATION_QUEUE}:wait`;
    expect(waitList).toBe("goat:evaluations:wait");
    const scaled = byKind("ScaledObject");
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(workers.map((w) => w.metadata.name).sort());
    for (const object of scaled) {
      expect(object.spec.triggers).toHaveLength(1);
      const [trigger] = object.spec.triggers;
      expect(trigger.type).toBe("redis");
      expect(trigger.metadata.listName).toBe(waitList);
      expect(named("TriggerAuthentication", trigger.authenticationRef.name)).toBeDefined();
      expect(object.spec.maxReplicaCount).toBeGreaterThanOrEqual(object.spec.minReplicaCount);
    }
    const secret = named("Secret", "goat-secrets").stringData;
    for (const ref of named("TriggerAuthentication", "goat-redis").spec.secretTargetRef) {
      expect(ref.name).toBe("goat-secrets");
      expect(secret).toHaveProperty(ref.key);
    }
  });

  it("Postgres, Redis and S3 are external services the app's URLs point at", () => {
    const external = byKind("Service").filter((s) => s.spec.type === "ExternalName").map((s) => s.metadata.name).sort();
    expect(external).toEqual(["goat-postgres", "goat-redis", "goat-s3"]);
    const secret = named("Secret", "goat-secrets").stringData;
    expect(new URL(secret.DATABASE_URL).hostname).toMatch(/^goat-postgres\./);
    expect(new URL(secret.REDIS_URL).hostname).toMatch(/^goat-redis\./);
    expect(new URL(config.S3_ENDPOINT).hostname).toMatch(/^goat-s3\./);
    expect(config.STORAGE_BACKEND).toBe("s3");
  });
});
