import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingCapabilities, tracingPrivilegeProblem } from '../../src/sources/privileges.js';
import { defaultPolicyPath } from '../../src/sources/policy.js';
import { splitArgs, tetragonArgs } from '../../src/sources/managed.js';
import { tetraArgs } from '../../src/sources/tetra.js';

const status = (capEff: string): string => `Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;

void test('capabilities are read from the CapEff mask', () => {
  assert.deepEqual(missingCapabilities(status('000001ffffffffff')), []);
  assert.deepEqual(missingCapabilities(status('0000000000000000')), ['CAP_SYS_ADMIN', 'CAP_PERFMON', 'CAP_BPF']);
  // CAP_SYS_ADMIN (21) and CAP_BPF (39) only.
  const mask = ((1n << 21n) | (1n << 39n)).toString(16).padStart(16, '0');
  assert.deepEqual(missingCapabilities(status(mask)), ['CAP_PERFMON']);
});

void test('the privilege problem names what is missing and how to fix it', async () => {
  assert.equal(await tracingPrivilegeProblem('Tetragon', () => Promise.resolve(status('000001ffffffffff'))), undefined);
  const p = await tracingPrivilegeProblem('Tetragon', () => Promise.resolve(status('0000000000000000')));
  assert.match(p ?? '', /Tetragon needs root.*CAP_BPF.*missing: CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF.*ARGOS_SOURCE=export/);
  assert.equal(await tracingPrivilegeProblem('x', () => Promise.reject(new Error('no /proc'))), undefined);
});

void test('command lines for tetragon and tetra', () => {
  assert.deepEqual(splitArgs('  --a 1\t--b  '), ['--a', '1', '--b']);
  assert.deepEqual(tetragonArgs('/p.yaml', '/x.log', ['--z']), ['--tracing-policy', '/p.yaml', '--export-filename', '/x.log', '--export-allowlist', '{"event_set":["PROCESS_TRACEPOINT","PROCESS_EXEC","PROCESS_EXIT"]}', '--z']);
  assert.deepEqual(tetraArgs(undefined), ['getevents', '-o', 'json', '--event-types', 'PROCESS_TRACEPOINT,PROCESS_EXEC,PROCESS_EXIT']);
});

void test('the shipped policy is found from the package and is a raw_syscalls syscall64 TracingPolicy', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const policy = parse(readFileSync(defaultPolicyPath(), 'utf8')) as {
    apiVersion: string;
    kind: string;
    spec: { tracepoints: Array<{ subsystem: string; event: string; args: Array<{ index: number; type: string }> }> };
  };
  assert.equal(policy.apiVersion, 'cilium.io/v1alpha1');
  assert.equal(policy.kind, 'TracingPolicy');
  assert.deepEqual(policy.spec.tracepoints, [{ subsystem: 'raw_syscalls', event: 'sys_enter', args: [{ index: 4, type: 'syscall64' }] }]);
  assert.throws(() => defaultPolicyPath('/'), /ARGOS_TETRAGON_POLICY/);
});
