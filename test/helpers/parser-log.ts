// A parser for tests that records what it hands on, with a tokenizer in which every syscall
// name of every ABI has its own token (so tokens identify (abi, id) exactly).
import { Parser } from '../../src/parser/index.js';
import { Tokenizer, syscallName } from '../../src/syscalls/index.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Abi, ProcessInfo } from '../../src/core/types.js';

const names = new Set<string>();
for (const abi of ['x64', 'i386', 'arm64', 'arm32'] as const) {
  for (let id = 0; id < 1000; id++) {
    const n = syscallName(abi, id);
    if (n) names.add(n);
  }
}
export const fullTokenizer = Tokenizer.fromMapping(new Map([...names].sort().map((n, i) => [n, i + 2])));

export type Ev = ['syscall', string, number] | ['exec', ProcessInfo] | ['exit', string];

/** A parser with `fullTokenizer` whose handler records every event in `events`. */
export function parserWithLog(nativeAbi: Abi): { parser: Parser; events: Ev[]; counters: Counters } {
  const events: Ev[] = [];
  const counters = new Counters();
  const parser = new Parser({
    handler: {
      syscall: (key, token) => events.push(['syscall', key, token]),
      exec: (p) => events.push(['exec', p]),
      exit: (key) => events.push(['exit', key]),
    },
    tokenizer: fullTokenizer,
    counters,
    log: silentLogger(),
    nativeAbi,
  });
  return { parser, events, counters };
}
