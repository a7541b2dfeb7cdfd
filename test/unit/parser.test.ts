import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeAbiOf, processInfoFromLine, interpret } from '../../src/parser/index.js';
import { UNKNOWN_TOKEN } from '../../src/syscalls/index.js';
import { syntheticLines } from '../../src/recording/synthetic.js';
import { fullTokenizer, parserWithLog, type Ev } from '../helpers/parser-log.js';
import type { Abi } from '../../src/core/types.js';

const tokenizer = fullTokenizer;
const tok = (abi: Abi, id: number) => tokenizer.token(abi, id);

/**
 * A parser fed through `line()` (a string), with a twin fed the same line through `bytes()`
 * (inside a buffer with other lines before and after it, as a source reads them): after every
 * line the twin must have seen exactly the same events and counted exactly the same.
 */
function setup(nativeAbi: Abi = 'x64') {
  const viaString = parserWithLog(nativeAbi);
  const viaBytes = parserWithLog(nativeAbi);
  const parser = {
    /** `rest`: what follows the line in the twin's buffer (default: other lines). */
    line(line: string, rest = NEIGHBOUR_AFTER): void {
      viaString.parser.line(line);
      const text = Buffer.from(line, 'utf8');
      const buf = Buffer.concat([NEIGHBOUR_BEFORE, text, rest]);
      viaBytes.parser.bytes(buf, NEIGHBOUR_BEFORE.length, NEIGHBOUR_BEFORE.length + text.length);
      const what = `bytes() and line() differ on ${JSON.stringify(line.length > 200 ? `${line.slice(0, 100)} … ${line.slice(-100)}` : line)}`;
      assert.deepEqual(viaBytes.events, viaString.events, what);
      assert.deepEqual(viaBytes.counters, viaString.counters, what);
    },
  };
  return { parser, events: viaString.events, counters: viaString.counters };
}

const PROC = '"process":{"exec_id":"ZWRnZTE6MTIzNDU2Nzg5OjQyNDI=","pid":4242,"uid":1000,"cwd":"/home/pi","binary":"/usr/bin/curl","arguments":"http://x [a] {\\"process_x\\": 1} \\\\","flags":"execve clone","start_time":"2025-01-01T10:00:00.123456789Z","auid":1000,"parent_exec_id":"ZWRnZTE6MTIzNDUwMDAwOjQyMDA=","tid":4243}';
const PARENT = '"parent":{"exec_id":"ZWRnZTE6MTIzNDUwMDAwOjQyMDA=","pid":4200,"binary":"/bin/bash"}';
const KEY = 'ZWRnZTE6MTIzNDU2Nzg5OjQyNDI=';
const tp = (arg: string, proc = PROC) =>
  `{"process_tracepoint":{${proc},${PARENT},"subsys":"raw_syscalls","event":"sys_enter","args":[${arg}],"policy_name":"raw-syscalls","action":"KPROBE_ACTION_POST"},"node_name":"edge1","time":"2025-01-01T10:00:01.000000001Z"}`;
// Around a line in the twin's buffer: whole valid lines.
const NEIGHBOUR_BEFORE = Buffer.from(`${tp('{"long_arg":"7"}')}\n`);
const NEIGHBOUR_AFTER = Buffer.from(`\n${tp('{"long_arg":"7"}')}\n`);

void test('the README example line', () => {
  const { parser, events, counters } = setup();
  parser.line(tp('{"syscall_id":{"id":257,"abi":"x64"}}'));
  assert.deepEqual(events, [['syscall', KEY, tok('x64', 257)]]);
  assert.equal(counters.events, 1);
  assert.equal(counters.syscalls, 1);
  assert.equal(counters.malformed, 0);
});

void test('every argument form and ABI', () => {
  const cases: [string, Abi, number, Abi][] = [
    ['{"syscall_id":{"id":257,"abi":"x64"}}', 'x64', 257, 'x64'],
    ['{"syscall_id":{"abi":"x64"}}', 'x64', 0, 'x64'], // id 0 omitted by protobuf JSON
    ['{"syscall_id":{"id":"59","abi":"x64"}}', 'x64', 59, 'x64'],
    ['{"syscall_id":{"id":3,"abi":"i386"}}', 'x64', 3, 'i386'],
    ['{"syscall_id":{"id":63,"abi":"arm64"}}', 'x64', 63, 'arm64'],
    ['{"syscall_id":{"id":322,"abi":"arm32"}}', 'x64', 322, 'arm32'],
    ['{"syscall_id":{"id":56}}', 'arm64', 56, 'arm64'], // no abi: the native one
    ['{"syscall_id":{}}', 'x64', 0, 'x64'],
    ['{"long_arg":"257"}', 'x64', 257, 'x64'],
    ['{"long_arg":56}', 'arm64', 56, 'arm64'],
    ['{"size_arg":"221"}', 'arm64', 221, 'arm64'],
    ['{"size_arg":"0"}', 'x64', 0, 'x64'],
  ];
  for (const [arg, native, id, abi] of cases) {
    const { parser, events, counters } = setup(native);
    parser.line(tp(arg));
    assert.deepEqual(events, [['syscall', KEY, tok(abi, id)]], arg);
    assert.equal(counters.malformed + counters.unknownSyscalls, 0, arg);
    // The slow path agrees.
    const slow = interpret(JSON.parse(tp(arg)), native);
    assert.ok(slow.kind === 'syscall' && slow.id === id && slow.abi === abi, `slow path for ${arg}`);
  }
});

void test('spaces after commas, other key orders and pid-only processes', () => {
  const { parser, events, counters } = setup();
  const spaced = tp('{"syscall_id":{"id":1,"abi":"x64"}}').replace(/,"/g, ', "');
  parser.line(spaced);
  const reordered = JSON.stringify({ time: 't', node_name: 'n', process_tracepoint: { args: [{ size_arg: '2' }], event: 'sys_enter', subsys: 'raw_syscalls', process: { pid: 5, exec_id: 'abc' } } });
  parser.line(reordered);
  parser.line(tp('{"long_arg":"3"}', '"process":{"pid":77,"binary":"/x"}'));
  parser.line(tp('{"long_arg":"3"}', '"process":{"binary":"/x"}')); // pid 0 omitted
  assert.deepEqual(events, [
    ['syscall', KEY, tok('x64', 1)],
    ['syscall', 'abc', tok('x64', 2)],
    ['syscall', 'pid:77', tok('x64', 3)],
    ['syscall', 'pid:0', tok('x64', 3)],
  ]);
  assert.equal(counters.malformed, 0);
});

void test('exec and exit events', () => {
  const { parser, events, counters } = setup();
  const exec = `{"process_exec":{${PROC.replace(',"tid":4243', ',"pod":{"namespace":"kube","name":"web-1","container":{"id":"c1","name":"nginx","image":{"id":"sha","name":"nginx:1.27"}}}')},${PARENT}},"node_name":"edge1","time":"2025-01-01T10:00:00Z"}`;
  parser.line(exec);
  parser.line(`{"process_exit":{${PROC},${PARENT},"signal":"SIGKILL","time":"x"},"node_name":"edge1","time":"x"}`);
  parser.line('{"process_exit":{"process":{"pid":9}},"time":"x"}');
  assert.equal(counters.malformed, 0);
  assert.deepEqual(events, [
    ['exec', { execId: KEY, pid: 4242, uid: 1000, binary: '/usr/bin/curl', arguments: 'http://x [a] {"process_x": 1} \\', parentExecId: 'ZWRnZTE6MTIzNDUwMDAwOjQyMDA=', parent: { pid: 4200, execId: 'ZWRnZTE6MTIzNDUwMDAwOjQyMDA=', binary: '/bin/bash' }, startTime: '2025-01-01T10:00:00.123456789Z', pod: { namespace: 'kube', name: 'web-1', container: 'nginx', image: 'nginx:1.27' } }],
    ['exit', KEY],
    ['exit', 'pid:9'],
  ]);
  assert.equal(processInfoFromLine(exec)?.pod?.image, 'nginx:1.27');
  assert.equal(processInfoFromLine('{"process_exec":'), undefined);
  assert.equal(processInfoFromLine('[1]'), undefined);
});

void test('other event types are ignored, not malformed', () => {
  const { parser, events, counters } = setup();
  parser.line(`{"process_kprobe":{${PROC},"function_name":"tcp_connect"},"node_name":"edge1","time":"2025-01-01T10:00:00Z"}`);
  parser.line('{"rate_limit_info":{"number_of_dropped_process_events":"5"},"node_name":"edge1","time":"2025-01-01T10:00:00Z"}');
  parser.line('{"node_name":"edge1","process_lsm":{"process":{}},"time":"x"}');
  parser.line(tp('{"long_arg":"3"}').replace('"raw_syscalls","event":"sys_enter"', '"sched","event":"sched_switch"'));
  assert.equal(counters.ignored, 4);
  assert.equal(counters.malformed, 0);
  assert.deepEqual(events, []);
});

void test('bad lines are counted as malformed and never throw', () => {
  const good = tp('{"syscall_id":{"id":257,"abi":"x64"}}');
  const bad = [
    '',
    '   ',
    'hello',
    '{',
    '[]',
    'null',
    '42',
    '{}',
    '{"node_name":"edge1","time":"x"}',
    '{"surprise":{"a":1},"time":"x"}',
    '{"process_tracepoint":"nope","time":"x"}',
    good.slice(0, -1), // outer object not closed
    good + 'x',
    good.replace('"pid":4242', '"pid":"x"'),
    good.replace('"pid":4242', '"pid":-'),
    tp('{"syscall_id":{"id":"x","abi":"x64"}}'),
    tp('{"syscall_id":{"id":1,"abi":7}}'),
    tp('{"long_arg":"1e3"}'),
    tp('{"long_arg":true}'),
    tp('{"string_arg":"read"}'),
    tp(''),
    tp('{"long_arg":"1"}').replace('"args":[{"long_arg":"1"}]', '"args":{}'),
    tp('{"long_arg":"1"}').replace(PROC, '"process":[]'),
    '{"process_exec":{"process":{"pid":"seven"}},"time":"x"}',
    '{"process_exit":{},"time":"x"}',
    '\u0000\u0001binary junk\uffff',
  ];
  for (const line of bad) {
    const { parser, events, counters } = setup();
    parser.line(line);
    assert.equal(counters.malformed, 1, `malformed: ${JSON.stringify(line.slice(0, 40) + " … " + line.slice(-190, -120))}`);
    assert.equal(counters.events, 0, 'a line that is not an event is not counted as one');
    assert.deepEqual(events, []);
  }
});

void test('a line cut anywhere, or two half lines joined, is malformed', () => {
  const { parser, events, counters } = setup();
  const lines = [tp('{"syscall_id":{"id":257,"abi":"x64"}}'), tp('{"long_arg":"2"}'), tp('{"syscall_id":{"abi":"x64"}}')];
  let n = 0;
  for (const a of lines) {
    for (let cut = 1; cut < a.length; cut++) {
      // The twin gets the cut line with the rest of it right behind its end: nothing past
      // the end may be read.
      parser.line(a.slice(0, cut), Buffer.from(a.slice(cut)));
      parser.line(a.slice(0, cut) + lines[0]);
      n += 2;
    }
  }
  assert.equal(counters.malformed, n);
  assert.deepEqual(events, []);
});

void test('unknown syscall numbers and ABIs map to the unknown token and are counted', () => {
  const { parser, events, counters } = setup();
  parser.line(tp('{"syscall_id":{"id":9999,"abi":"x64"}}'));
  parser.line(tp('{"syscall_id":{"id":1,"abi":"mips"}}'));
  parser.line(tp('{"long_arg":"-1"}'));
  parser.line(tp('{"long_arg":"99999999999"}'));
  assert.deepEqual(events.map((e) => e[2]), [UNKNOWN_TOKEN, UNKNOWN_TOKEN, UNKNOWN_TOKEN, UNKNOWN_TOKEN]);
  assert.equal(counters.unknownSyscalls, 4);
  assert.equal(counters.syscalls, 4);
  assert.equal(counters.malformed, 0);
});

void test('huge lines: a valid one is read, a broken one is malformed', () => {
  const { parser, events, counters } = setup();
  const big = 'A'.repeat(2_000_000);
  parser.line(tp('{"long_arg":"1"}', PROC.replace('"arguments":"', `"arguments":"${big}`)));
  parser.line(`{"process_tracepoint":{"process":{"exec_id":"${big}`);
  parser.line('['.repeat(100_000));
  assert.deepEqual(events, [['syscall', KEY, tok('x64', 1)]]);
  assert.equal(counters.malformed, 2);
});

void test('the fast path agrees with JSON.parse on every synthetic line of every form', () => {
  for (const [form, abi] of [['syscall_id', 'x64'], ['syscall_id', 'arm64'], ['long_arg', 'arm64'], ['size_arg', 'x64']] as const) {
    const { parser, events, counters } = setup(abi);
    const expected: Ev[] = [];
    let lines = 0;
    for (const line of syntheticLines({ processes: 20, syscallsPerProcess: 50, seed: 11, form, abi })) {
      parser.line(line);
      lines++;
      const ev = interpret(JSON.parse(line), abi);
      if (ev.kind === 'syscall') expected.push(['syscall', ev.key, ev.abi ? tokenizer.token(ev.abi, ev.id) : UNKNOWN_TOKEN]);
      else if (ev.kind === 'exec') expected.push(['exec', ev.process]);
      else if (ev.kind === 'exit') expected.push(['exit', ev.key]);
    }
    assert.deepEqual(events, expected, form);
    assert.equal(counters.events, lines);
    assert.equal(counters.malformed + counters.ignored + counters.unknownSyscalls, 0);
  }
});

void test('native ABI follows the machine', () => {
  assert.equal(nativeAbiOf('x64'), 'x64');
  assert.equal(nativeAbiOf('arm64'), 'arm64');
  assert.equal(nativeAbiOf('arm'), 'arm32');
  assert.equal(nativeAbiOf('ia32'), 'i386');
});
