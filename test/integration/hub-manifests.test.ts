// The cloud side's manifests (config/hub/) against the Kubernetes API schemas, offline, and
// what the hub needs from them: stable replica names for its MQTT sessions, settings that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { SETTINGS } from '../../src/config/schema.js';

const FILE = join(resolve(import.meta.dirname, '..', '..'), 'config', 'hub', 'hub.yaml');
const docs = parseAllDocuments(readFileSync(FILE, 'utf8')).map((d) => {
  assert.deepEqual(d.errors, []);
  return d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string>; stringData?: Record<string, string> };
});
const VALIDATORS: Record<string, (b: never) => { validate(): void }> = {
  Namespace: (b) => new Namespace(b),
  ConfigMap: (b) => new ConfigMap(b),
  Secret: (b) => new Secret(b),
  Service: (b) => new Service(b),
  StatefulSet: (b) => new StatefulSet(b),
};

void test('every document validates against its Kubernetes schema', () => {
  assert.ok(docs.length >= 6);
  for (const d of docs) {
    const make = VALIDATORS[d.kind];
    assert.ok(make, `no schema for ${d.kind}`);
    assert.doesNotThrow(() => make(d as never).validate(), (e: Error) => `${d.kind} ${d.metadata.name}: ${e.message}`);
  }
});

void test('two replicas with stable names run `argos hub`; settings come from the ConfigMap and Secret and all exist', () => {
  const sts = new StatefulSet(docs.find((d) => d.kind === 'StatefulSet') as never);
  assert.equal(sts.spec?.replicas, 2);
  const c = sts.spec!.template.spec!.containers[0];
  assert.deepEqual(c.args, ['hub']);
  assert.equal(c.env?.find((e) => e.name === 'ARGOS_HUB_INSTANCE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  assert.equal(c.readinessProbe?.httpGet?.path, '/healthz');
  const known = new Set(SETTINGS.flatMap((s) => s.env));
  const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'argos-hub-config')!;
  const secret = docs.find((d) => d.kind === 'Secret')!;
  for (const k of [...Object.keys(config.data ?? {}), ...Object.keys(secret.stringData ?? {})]) assert.ok(known.has(k), `${k} is not a setting`);
  assert.ok(c.envFrom?.some((e) => e.configMapRef?.name === config.metadata.name));
  assert.ok(c.envFrom?.some((e) => e.secretRef?.name === secret.metadata.name));
  assert.match(config.data?.ARGOS_HUB_HTTP ?? '', /^0\.0\.0\.0:\d+$/);
  const ports = new Set(c.ports?.map((p) => p.name));
  for (const svc of docs.filter((d) => d.kind === 'Service')) {
    for (const p of new Service(svc as never).spec?.ports ?? []) assert.ok(ports.has(String(p.targetPort)), `${svc.metadata.name} targets a named container port`);
  }
});
