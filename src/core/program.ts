// What a program is (DESIGN.md "Programs and the device's own model"): its binary path, and
// for a process in a pod the container image it runs from. The image counts by its
// repository, without tag or digest, so an image upgrade keeps its programs' profiles.
import type { ProcessInfo } from './types.js';

/** `docker.io/library/nginx:1.27@sha256:…` → `docker.io/library/nginx`. */
export function imageRepository(image: string): string {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The program key: the binary path, or `<image repository>:<binary path>` in a pod whose image is known. */
export function programKey(p: Pick<ProcessInfo, 'binary' | 'pod'>): string {
  const image = p.pod?.image;
  return image !== undefined && image !== '' ? `${imageRepository(image)}:${p.binary}` : p.binary;
}

/** The binary path of a program key. */
export function programBinary(key: string): string {
  const at = key.indexOf(':/');
  return at >= 0 ? key.slice(at + 1) : key;
}

/** Places anyone may write to, or no file at all: programs run from there get the highest priority. */
const WRITABLE: readonly [RegExp, string][] = [
  [/^\/tmp\//, 'a temporary folder (/tmp)'],
  [/^\/var\/tmp\//, 'a temporary folder (/var/tmp)'],
  [/^\/dev\/shm\//, 'shared memory (/dev/shm)'],
  [/^\/run\/user\//, 'a user\'s runtime folder (/run/user)'],
  [/^\/home\//, 'a home folder'],
  [/^\/root\//, 'root\'s home folder'],
  [/^\/?memfd:/, 'an in-memory file (memfd)'],
  [/^\/(proc\/self|dev)\/fd\//, 'a file descriptor (no file on disk)'],
  [/ \(deleted\)$/, 'a deleted file'],
];

/** Why `binary` runs from a writable or temporary place, or undefined when it does not. */
export function writableLocation(binary: string): string | undefined {
  for (const [re, what] of WRITABLE) if (re.test(binary)) return what;
  return undefined;
}

/**
 * A process forked without exec whose event names no program (its binary is empty) runs its
 * parent's: it takes the parent's binary, arguments and pod. Others are returned as they are.
 */
export function inheritProgram(info: ProcessInfo, parentOf: (execId: string) => ProcessInfo | undefined): ProcessInfo {
  if (info.binary !== '' || info.parentExecId === undefined) return info;
  const parent = parentOf(info.parentExecId);
  if (parent === undefined || parent.binary === '') return info;
  const out: ProcessInfo = { ...info, binary: parent.binary, arguments: parent.arguments };
  if (parent.pod !== undefined && info.pod === undefined) out.pod = parent.pod;
  return out;
}
