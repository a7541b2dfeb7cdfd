// The KubeEdge manifests against the Kubernetes API schemas, offline: kubernetes-models'
// validators (types, required fields, enums, formats such as quantities), the TypeScript
// compiler over the same models' types (catches misspelt or misplaced fields, which the
// schemas allow), and checks of what the product needs from each variant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import ts from 'typescript';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'config', 'kubeedge');

interface Doc {
  file: string;
  index: number;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  body: Record<string, unknown>;
}

/** kind → [validating model, module and type for the compiler check]. */
const MODELS: Record<string, { validate(body: Record<string, unknown>): void; module: string; type: string }> = {
  'v1/Namespace': { validate: (b) => new Namespace(b as never).validate(), module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/ConfigMap': { validate: (b) => new ConfigMap(b as never).validate(), module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { validate: (b) => new Secret(b as never).validate(), module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/ServiceAccount': { validate: (b) => new ServiceAccount(b as never).validate(), module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'apps/v1/DaemonSet': { validate: (b) => new DaemonSet(b as never).validate(), module: 'kubernetes-models/apps/v1/DaemonSet', type: 'IDaemonSet' },
};

function loadDocs(): Doc[] {
  const docs: Doc[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).forEach((d, index) => {
      assert.deepEqual(d.errors, [], `${file} document ${index + 1}: YAML errors`);
      const body = d.toJS() as Record<string, unknown> | null;
      if (!body) return;
      const meta = body.metadata as Doc['metadata'];
      docs.push({ file, index, apiVersion: String(body.apiVersion), kind: String(body.kind), metadata: meta, body });
    });
  }
  return docs;
}

const docs = loadDocs();
const where = (d: Doc) => `${d.file} #${d.index + 1} (${d.kind} ${d.metadata?.name})`;

void test('every document validates against its Kubernetes schema', () => {
  assert.ok(docs.length >= 6, `found ${docs.length} documents`);
  for (const d of docs) {
    const model = MODELS[`${d.apiVersion}/${d.kind}`];
    assert.ok(model, `${where(d)}: no schema known for ${d.apiVersion} ${d.kind}`);
    assert.doesNotThrow(() => model.validate(d.body), (e: Error) => `${where(d)}: ${e.message}`);
  }
});

void test('the schema check does catch a broken document', () => {
  const ds = structuredClone(docs.find((d) => d.kind === 'DaemonSet')!.body) as { spec: { template: { spec: { containers: { resources: unknown }[] } } } };
  ds.spec.template.spec.containers[0].resources = { limits: { memory: 'lots' } };
  assert.throws(() => MODELS['apps/v1/DaemonSet'].validate(ds as never), /resources\/limits\/memory/);
});

/** Type-checks the documents as object literals of the models' types (excess property checks). */
function typeErrors(list: readonly Doc[]): string[] {
  const file = join(ROOT, 'test', '__manifests_typecheck__.ts');
  const lines: string[] = [];
  const types = [...new Set(list.map((d) => `${d.apiVersion}/${d.kind}`))];
  types.forEach((k, i) => lines.push(`import type { ${MODELS[k].type} as T${i} } from '${MODELS[k].module}';`));
  list.forEach((d, i) => lines.push(`// ${where(d)}`, `export const d${i}: T${types.indexOf(`${d.apiVersion}/${d.kind}`)} = ${JSON.stringify(d.body)};`));
  const text = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (resolve(name) === file ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diag) => {
    const line = diag.file && diag.start !== undefined ? diag.file.getLineAndCharacterOfPosition(diag.start).line : -1;
    const context = line > 0 ? text.split('\n')[line - 1] : '';
    return `${context} ${ts.flattenDiagnosticMessageText(diag.messageText, ' ')}`;
  });
}

void test('no unknown or misplaced fields (checked by the TypeScript compiler against the API types)', () => {
  assert.deepEqual(typeErrors(docs), []);
  const ds = structuredClone(docs.find((d) => d.kind === 'DaemonSet')!);
  (ds.body.spec as { template: { spec: Record<string, unknown> } }).template.spec.toleration = [];
  const errors = typeErrors([ds]);
  assert.equal(errors.length, 1, 'a misspelt field is caught');
  assert.match(errors[0], /toleration"?' does not exist in type 'IPodSpec'/);
});

function daemonSet(file: string) {
  const d = docs.find((x) => x.file === file && x.kind === 'DaemonSet');
  assert.ok(d, `${file} has a DaemonSet`);
  return new DaemonSet(d.body as never);
}

for (const file of ['daemonset-export.yaml', 'daemonset-managed.yaml']) {
  void test(`${file}: edge nodes only, edge taint tolerated, host network, probes, small resources, state on the host`, () => {
    const ds = daemonSet(file);
    const pod = ds.spec!.template.spec!;
    const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    assert.ok(terms.some((t) => t.matchExpressions?.some((e) => e.key === 'node-role.kubernetes.io/edge' && e.operator === 'Exists')));
    assert.ok(pod.tolerations?.some((t) => t.key === 'node-role.kubernetes.io/edge' && t.operator === 'Exists'));
    assert.equal(pod.hostNetwork, true, 'MQTT to the EventBus at 127.0.0.1:1883');
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    const c = pod.containers[0];
    assert.equal(c.livenessProbe?.httpGet?.path, '/livez');
    assert.equal(c.readinessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.livenessProbe?.httpGet?.port, 9464);
    assert.ok(c.resources?.requests?.memory && c.resources.limits?.memory && c.resources.limits.cpu);
    // Every mount has a volume; the database lives on a hostPath.
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `mount ${m.name} has no volume`);
    const dataMount = c.volumeMounts?.find((m) => m.mountPath === '/var/lib/argos');
    assert.equal(volumes.get(dataMount!.name)?.hostPath?.path, '/var/lib/argos');
    const env = new Map((c.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get('ARGOS_DB_PATH')?.value, '/var/lib/argos/argos.db');
    assert.equal(env.get('ARGOS_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    // Settings come from the ConfigMap and the Secret of common.yaml.
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    const secret = docs.find((d) => d.kind === 'Secret')!;
    assert.ok(c.envFrom?.some((e) => e.configMapRef?.name === cm.metadata.name));
    assert.ok(c.envFrom?.some((e) => e.secretRef?.name === secret.metadata.name));
    assert.equal(ds.metadata?.namespace, cm.metadata.namespace);
    assert.equal((cm.body.data as Record<string, string>).ARGOS_MQTT_URL, 'tcp://127.0.0.1:1883');
  });
}

void test('export variant: no privileges, Tetragon export mounted read-only; managed variant: privileged with hostPID', () => {
  const exp = daemonSet('daemonset-export.yaml').spec!.template.spec!;
  const ec = exp.containers[0];
  assert.equal(ec.securityContext?.privileged, false);
  assert.deepEqual(ec.securityContext?.capabilities?.drop, ['ALL']);
  assert.equal(ec.securityContext?.readOnlyRootFilesystem, true);
  assert.notEqual(exp.hostPID, true);
  const file = ec.env?.find((e) => e.name === 'ARGOS_EXPORT_FILE')?.value ?? '';
  const mount = ec.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
  assert.ok(mount?.readOnly, 'the export file is on a read-only mount');
  assert.ok(exp.volumes?.find((v) => v.name === mount.name)?.hostPath, 'from the host');

  const man = daemonSet('daemonset-managed.yaml').spec!.template.spec!;
  assert.equal(man.hostPID, true);
  assert.equal(man.containers[0].securityContext?.privileged, true);
  assert.equal(man.containers[0].env?.find((e) => e.name === 'ARGOS_SOURCE')?.value, 'managed');
  assert.ok(man.volumes?.some((v) => v.hostPath?.path === '/sys/fs/bpf'));
});

void test('Containerfile takes the binaries that npm run build:bin makes, per architecture', () => {
  const text = readFileSync(join(ROOT, 'build', 'Containerfile'), 'utf8');
  assert.match(text, /FROM scratch AS bin-amd64\nCOPY dist\/argos-linux-x64 \/argos/);
  assert.match(text, /FROM scratch AS bin-arm64\nCOPY dist\/argos-linux-arm64 \/argos/);
  assert.match(text, /FROM bin-\$\{TARGETARCH\} AS bin/);
  const ignore = readFileSync(join(ROOT, 'build', 'Containerfile.dockerignore'), 'utf8');
  assert.match(ignore, /^!dist\/argos-linux-x64$/m);
  for (const image of ['registry.local/argos-edge:0.1.0', 'registry.local/argos-edge:0.1.0-tetragon']) {
    assert.ok(docs.some((d) => JSON.stringify(d.body).includes(`"image":"${image}"`)), `${image} is used`);
  }
});
