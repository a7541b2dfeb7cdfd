// May this process load eBPF programs? Needed to trace (managed, bpftrace), informative otherwise.
import { tracingPrivilegeProblem } from '../sources/privileges.js';
import { tracesKernel, type Check, type DoctorCheck } from './check.js';

/** "what is wrong (details): what to do" → a failed check with its fix. */
function splitProblem(name: string, sentence: string): DoctorCheck {
  const at = sentence.indexOf('): ');
  if (at < 0) return { name, status: 'fail', detail: sentence };
  return { name, status: 'fail', detail: sentence.slice(0, at + 1), fix: sentence.slice(at + 3) };
}

export const privilegesCheck: Check = async ({ config, readStatus }) => {
  const src = config.source;
  const privilege = await tracingPrivilegeProblem(src === 'bpftrace' ? 'bpftrace' : 'Tetragon', readStatus);
  if (privilege === undefined) return [{ name: 'privileges', status: 'ok', detail: 'may load eBPF programs' }];
  return [tracesKernel(config) ? splitProblem('privileges', privilege) : { name: 'privileges', status: 'skip', detail: `not needed for ARGOS_SOURCE=${src}` }];
};
