// Fuzzing the parser with fast-check: Tetragon lines generated with hostile field values, and
// valid lines mutated byte by byte (cut, joined, bytes flipped, inserted, deleted, invalid
// UTF-8), plus arbitrary JSON. For every line:
//   - nothing throws, and `bytes()` (the raw bytes, as sources hand them over) and `line()`
//     (the decoded string) give exactly the same events and counts;
//   - when the line is valid JSON, the parser's result is exactly what JSON.parse and the
//     slow path's `interpret` make of it (fast path and JSON.parse agree);
//   - when it is not valid JSON, the line is malformed, except for what the parser documents
//     (src/parser/parser.ts): damage confined to the bytes the fast paths skip (inside the
//     process objects of a tracepoint; inside an event of a type we do not use, which is then
//     counted as ignored). Then what it read must be exactly what the original line says:
//     checked for lines with one mutation, where the original is known; lines with several
//     mutations are only checked for agreement between the entry points.
// The seed is fixed so CI is repeatable; ARGOS_FUZZ_SEED=<n> (or =random) explores further,
// ARGOS_FUZZ_RUNS scales every property. The counts go to docs/reliability.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { interpret, type Parser } from '../../src/parser/index.js';
import { NOT_A_SYSCALL, UNKNOWN_TOKEN } from '../../src/syscalls/index.js';
import { Counters } from '../../src/core/counters.js';
import { hasDuplicateKeys } from '../helpers/json-keys.js';
import { fullTokenizer, parserWithLog, type Ev } from '../helpers/parser-log.js';

const SEED = process.env.ARGOS_FUZZ_SEED === 'random' ? Date.now() : Number(process.env.ARGOS_FUZZ_SEED ?? 20261129);
const SCALE = Number(process.env.ARGOS_FUZZ_RUNS ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

const tokenizer = fullTokenizer;

interface Outcome {
  events: Ev[];
  counts: Record<string, number>;
}

const COUNTED = ['events', 'malformed', 'ignored', 'syscalls', 'unknownSyscalls'] as const;

function counts(c: Counters): Record<string, number> {
  return Object.fromEntries(COUNTED.map((k) => [k, c[k]]));
}

/** One parser; `run` feeds it one line and returns what that line did. */
function harness(): (feed: (p: Parser) => void) => Outcome {
  const { parser, events, counters } = parserWithLog('x64');
  return (feed) => {
    events.length = 0;
    const before = counts(counters);
    feed(parser);
    const after = counts(counters);
    return { events: [...events], counts: Object.fromEntries(COUNTED.map((k) => [k, after[k] - before[k]])) };
  };
}

// Long-lived parsers, so state carried from line to line (the previous exec_id and args place)
// is fuzzed too.
const viaBytes = harness();
const viaString = harness();

/** What JSON.parse and the slow path make of `text`. */
function oracle(text: string): Outcome | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined;
  }
  const zero = { events: 1, malformed: 0, ignored: 0, syscalls: 0, unknownSyscalls: 0 };
  const ev = interpret(obj, 'x64');
  switch (ev.kind) {
    case 'syscall': {
      const token = ev.abi === undefined ? NOT_A_SYSCALL : tokenizer.lookup(ev.abi, ev.id);
      const unknown = token === NOT_A_SYSCALL ? 1 : 0;
      return { events: [['syscall', ev.key, unknown ? UNKNOWN_TOKEN : token]], counts: { ...zero, syscalls: 1, unknownSyscalls: unknown } };
    }
    case 'exec':
      return { events: [['exec', ev.process]], counts: zero };
    case 'exit':
      return { events: [['exit', ev.key]], counts: zero };
    case 'ignored':
      return { events: [], counts: { ...zero, ignored: 1 } };
    case 'malformed':
      return { events: [], counts: { ...zero, events: 0, malformed: 1 } };
  }
}

// Keys written twice: JSON.parse keeps the last value, the fast path reads the first;
// Tetragon's encoder never repeats a key, and the parser documents this as outside its contract.
const MALFORMED: Outcome['counts'] = { events: 0, malformed: 1, ignored: 0, syscalls: 0, unknownSyscalls: 0 };

export const stats = { lines: 0, validJson: 0, events: 0, malformed: 0, acceptedDespiteDamage: 0, duplicateKeys: 0 };

/**
 * Runs one line (as raw bytes) through both entry points and checks the properties.
 * `original`: the valid line a single mutation made this one from; `'unknown'` for lines of
 * several mutations.
 */
function check(raw: Buffer, original?: Buffer | 'unknown'): void {
  stats.lines++;
  // The line's bytes sit in a buffer between other bytes, as a source reads them.
  const buf = Buffer.concat([Buffer.from('{"junk":1}\n'), raw, Buffer.from('\n{"process_tracepoint":')]);
  const text = raw.toString('utf8');
  const b = viaBytes((p) => p.bytes(buf, 11, 11 + raw.length));
  const s = viaString((p) => p.line(text));
  assert.deepEqual(b, s, `bytes() and line() differ on ${JSON.stringify(text.slice(0, 300))}`);
  const want = oracle(text);
  if (want !== undefined && hasDuplicateKeys(text)) {
    stats.duplicateKeys++;
  } else if (want !== undefined) {
    stats.validJson++;
    assert.deepEqual(s, want, `parser and JSON.parse differ on ${JSON.stringify(text.slice(0, 300))}`);
  } else if (s.counts.malformed === 1) {
    assert.deepEqual(s, { events: [], counts: MALFORMED });
  } else if (s.counts.ignored === 1) {
    // The prefix of a type we do not use, a closed outer object: counted as ignored (documented).
    stats.acceptedDespiteDamage++;
    assert.deepEqual(s.events, []);
    assert.match(text, /^\{"(process_(kprobe|uprobe|lsm|usdt|loader|throttle)|rate_limit_info|test)"/);
  } else {
    // Accepted although not JSON: only damage in the bytes the fast path skips, and what it
    // read is exactly what the original line said.
    stats.acceptedDespiteDamage++;
    assert.ok(original !== undefined, `a line that is not JSON was accepted: ${JSON.stringify(text.slice(0, 300))}`);
    if (original !== 'unknown') assert.deepEqual(s, oracle(original.toString('utf8')), `accepted with other fields than the original: ${JSON.stringify(text.slice(0, 300))}`);
  }
  if (s.counts.malformed) stats.malformed++;
  else stats.events++;
}

// ---- generators ----------------------------------------------------------------------------

/** Text a watched host can put in a binary name, arguments or pod name. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('\u001b[31mred\u001b[0m', '\u202eevil', '../../etc/passwd', '<script>alert(1)</script>', 'a/+/#', '"quoted"', '\\', '{"process_exec":', '\u0000', '\ud800', 'x'.repeat(5000)),
);
const execId = fc.oneof(fc.base64String({ minLength: 4, maxLength: 60 }), fc.string({ maxLength: 30 }), fc.constant(''));
const pid = fc.oneof(fc.nat({ max: 4_194_304 }), fc.integer({ min: -5, max: 5 }), fc.constant('12'), fc.constant(2 ** 53));
const abi = fc.oneof(fc.constantFrom('x64', 'i386', 'arm64', 'arm32'), fc.string({ maxLength: 6 }));
const arg = fc.oneof(
  fc.record({ syscall_id: fc.record({ id: fc.oneof(fc.nat({ max: 600 }), fc.constant('59'), fc.integer()), abi }, { requiredKeys: [] }) }),
  fc.record({ long_arg: fc.oneof(fc.nat({ max: 600 }).map(String), fc.nat({ max: 600 }), fc.string({ maxLength: 5 })) }),
  fc.record({ size_arg: fc.oneof(fc.nat({ max: 600 }).map(String), fc.integer({ min: -2, max: 600 })) }),
  fc.record({ string_arg: fc.string({ maxLength: 5 }) }),
);
const processObject = fc.record(
  {
    exec_id: execId,
    pid,
    uid: fc.nat({ max: 70_000 }),
    cwd: hostile,
    binary: hostile,
    arguments: hostile,
    flags: fc.constantFrom('execve clone', 'procFS'),
    start_time: fc.constant('2025-01-01T10:00:00.123456789Z'),
    parent_exec_id: execId,
    pod: fc.record({ namespace: hostile, name: hostile, container: fc.record({ name: hostile, image: fc.record({ name: hostile }) }) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['exec_id', 'pid', 'binary'] },
);
const time = fc.constantFrom('2025-01-01T10:00:01.000000001Z', '2025-01-01T10:00:01Z', 'x');

/** A Tetragon event object: mostly tracepoints, some exec/exit and other types. */
const eventObject = fc.oneof(
  { weight: 6, arbitrary: fc.record({ process_tracepoint: fc.record({ process: processObject, parent: processObject, subsys: fc.constantFrom('raw_syscalls', 'sched'), event: fc.constantFrom('sys_enter', 'sys_exit'), args: fc.array(arg, { maxLength: 2 }), policy_name: fc.constant('raw-syscalls') }, { requiredKeys: ['process', 'subsys', 'event', 'args'] }), node_name: hostile, time }) },
  { weight: 2, arbitrary: fc.record({ process_exec: fc.record({ process: processObject, parent: processObject }, { requiredKeys: ['process'] }), node_name: hostile, time }) },
  { weight: 1, arbitrary: fc.record({ process_exit: fc.record({ process: processObject, signal: fc.constant('SIGKILL') }, { requiredKeys: [] }), time }) },
  { weight: 1, arbitrary: fc.record({ process_kprobe: fc.oneof(fc.record({ process: processObject }), fc.integer(), fc.constant(null)), rate_limit_info: fc.constant({}), node_name: hostile, time }, { requiredKeys: ['process_kprobe', 'time'] }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('process_tracepoint', 'process_exec', 'process_exit', 'process_lsm', 'surprise', 'time', 'node_name'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
);

/** Tetragon's own encoding (the fast path's shape), or one with spaces after commas. */
const eventLine = fc.tuple(eventObject, fc.boolean()).map(([o, spaced]) => {
  const json = JSON.stringify(o);
  return Buffer.from(spaced ? json.replace(/,"/g, ', "') : json, 'utf8');
});

/** A line as Tetragon writes it, ideal for the fast path: the fields in the order Tetragon writes them. */
const tetragonLine = fc
  .record({ exec: fc.base64String({ minLength: 8, maxLength: 48 }), pid: fc.nat({ max: 99_999 }), binary: hostile, args: hostile, id: fc.nat({ max: 460 }), form: fc.constantFrom('syscall_id', 'long_arg', 'size_arg') })
  .map(({ exec, pid: p, binary, args, id, form }) => {
    const process = JSON.stringify({ exec_id: exec, pid: p, uid: 0, cwd: '/', binary, arguments: args, flags: 'execve', start_time: '2025-01-01T10:00:00Z', auid: 0, parent_exec_id: 'cGFyZW50', tid: p });
    const parent = JSON.stringify({ exec_id: 'cGFyZW50', pid: 1, binary: '/sbin/init' });
    const a = form === 'syscall_id' ? `{"syscall_id":{"id":${id},"abi":"x64"}}` : form === 'long_arg' ? `{"long_arg":"${id}"}` : `{"size_arg":"${id}"}`;
    return Buffer.from(`{"process_tracepoint":{"process":${process},"parent":${parent},"subsys":"raw_syscalls","event":"sys_enter","args":[${a}],"policy_name":"raw-syscalls","action":"KPROBE_ACTION_POST"},"node_name":"edge1","time":"2025-01-01T10:00:01.000000001Z"}`, 'utf8');
  });

const PIECES = ['"', '\\', '{', '}', '[', ']', ',', ':', '{"process_', '"pid":', '"exec_id":"', '"args":[', '\n', '\u0000', '\u00e9', '\ud83d\ude00', '"time":"', 'null', ' '].map((s) => Buffer.from(s, 'utf8'));

/** One mutation of a line's bytes. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), piece: fc.constantFrom(...PIECES) }),
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('join' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(line: Buffer, m: Mutation): Buffer {
  const at = line.length === 0 ? 0 : m.at % (line.length + 1);
  switch (m.kind) {
    case 'cut':
      return line.subarray(0, at);
    case 'delete':
      return Buffer.concat([line.subarray(0, at), line.subarray(at + m.n)]);
    case 'flip': {
      const out = Buffer.from(line);
      if (out.length > 0) out[at % out.length] = m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([line.subarray(0, at), m.piece, line.subarray(at)]);
    case 'bytes':
      return Buffer.concat([line.subarray(0, at), m.bytes, line.subarray(at)]);
    case 'join':
      // Half a line, then a whole one (two writers interleaved, or a lost newline).
      return Buffer.concat([line.subarray(0, at), line]);
    case 'repeat':
      return Buffer.concat([line.subarray(0, at), line.subarray(at, at + m.n), line.subarray(at)]);
  }
}

const NEWLINE = 0x0a;
/** Sources never hand over a newline inside a line: it would have split there. */
const oneLine = (b: Buffer): Buffer => (b.includes(NEWLINE) ? b.subarray(0, b.indexOf(NEWLINE)) : b);

// ---- properties ------------------------------------------------------------------------------

const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

void test('fuzz: generated Tetragon events with hostile field values', () => {
  fc.assert(fc.property(eventLine, (line) => check(oneLine(line))), params(runs(30_000)));
  fc.assert(fc.property(tetragonLine, (line) => check(oneLine(line))), params(runs(10_000)));
});

void test('fuzz: valid lines with one mutation (cut, deleted, flipped, inserted bytes, invalid UTF-8, joined lines)', () => {
  fc.assert(
    fc.property(fc.oneof(tetragonLine, eventLine), mutation, (line, m) => {
      const original = oneLine(line);
      const mutated = oneLine(mutate(original, m));
      check(mutated, mutated.length === mutate(original, m).length ? original : undefined);
    }),
    params(runs(40_000)),
  );
});

void test('fuzz: lines with several mutations, arbitrary JSON and arbitrary bytes never throw and both entry points agree', () => {
  fc.assert(
    fc.property(fc.oneof(tetragonLine, eventLine), fc.array(mutation, { minLength: 2, maxLength: 6 }), (line, ms) => {
      check(oneLine(ms.reduce(mutate, oneLine(line))), 'unknown');
    }),
    params(runs(15_000)),
  );
  fc.assert(fc.property(fc.json({ maxDepth: 4 }), (j) => check(oneLine(Buffer.from(j, 'utf8')))), params(runs(5_000)));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(oneLine(Buffer.from(bytes)))), params(runs(5_000)));
});

void test('fuzz: at least 100,000 lines were checked', (t) => {
  t.diagnostic(`fuzz seed ${SEED}: ${JSON.stringify(stats)}`);
  assert.ok(stats.lines >= 100_000 * Math.min(1, SCALE), `only ${stats.lines} lines`);
  assert.ok(stats.validJson > 20_000 && stats.malformed > 20_000, 'both valid and broken lines were exercised');
});
