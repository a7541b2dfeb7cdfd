import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NewProgramWatch } from '../../src/alerter/new-programs.js';
import { programKey, writableLocation } from '../../src/core/program.js';
import type { ProcessInfo } from '../../src/core/types.js';

function watch(known: Record<string, number> | undefined, allow: string[] = []) {
  const raised: [string, string | undefined][] = [];
  const w = new NewProgramWatch({ sink: { newProgram: (_p, program, writable) => raised.push([program, writable]) }, allow, known });
  return { w, raised };
}

const proc = (binary: string, image?: string): ProcessInfo => ({ execId: binary, pid: 1, binary, arguments: '', ...(image ? { pod: { namespace: 'ns', name: 'p', image } } : {}) });

void test('programs the model knows, by key, are quiet; others are new', () => {
  const { w, raised } = watch({ '/usr/bin/ls': 3, 'docker.io/library/nginx:/usr/sbin/nginx': 1, '/usr/bin/rare': 0 });
  w.exec(proc('/usr/bin/ls'));
  w.exec(proc('/usr/bin/rare'));
  w.exec(proc('/usr/sbin/nginx', 'docker.io/library/nginx:1.27@sha256:abc'));
  assert.deepEqual(raised, [], 'an image upgrade keeps its programs known; a rare program is known too');
  w.exec(proc('/usr/sbin/nginx'));
  w.exec(proc('/tmp/x'));
  assert.deepEqual(raised, [['/usr/sbin/nginx', undefined], ['/tmp/x', 'a temporary folder (/tmp)']]);
});

void test('the allowlist matches binaries and program keys by glob', () => {
  const { w, raised } = watch({}, ['/usr/lib/jvm/**', 'registry.local/tools:/**']);
  w.exec(proc('/usr/lib/jvm/java-21/bin/java'));
  w.exec(proc('/usr/bin/jq', 'registry.local/tools:2.0'));
  w.exec(proc('/usr/lib/jvmx/java'));
  assert.deepEqual(raised.map(([p]) => p), ['/usr/lib/jvmx/java']);
});

void test('off for models that know no programs; a model swap changes what is known', () => {
  const { w, raised } = watch(undefined);
  w.exec(proc('/tmp/x'));
  assert.deepEqual(raised, []);
  w.setKnown({ '/usr/bin/ls': 1 });
  w.exec(proc('/tmp/x'));
  assert.equal(raised.length, 1);
});

void test('writable and temporary places', () => {
  for (const b of ['/tmp/a', '/var/tmp/b', '/dev/shm/.c', '/home/pi/x', '/root/y', '/memfd:payload (deleted)', 'memfd:x', '/usr/bin/z (deleted)', '/proc/self/fd/3', '/run/user/1000/t']) {
    assert.ok(writableLocation(b) !== undefined, b);
  }
  for (const b of ['/usr/bin/ls', '/opt/app/bin/app', '/usr/local/bin/tmp']) assert.equal(writableLocation(b), undefined, b);
  assert.equal(programKey({ binary: '/app/run', pod: { namespace: 'a', name: 'b', image: 'registry:5000/team/app:1.2' } }), 'registry:5000/team/app:/app/run');
});
