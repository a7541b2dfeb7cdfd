// Bearer tokens: the operator's token may read and send commands, the read-only token may
// only read. Compared in constant time (of their SHA-256), so response times tell nothing.
import { createHash, timingSafeEqual } from 'node:crypto';

export type Access = 'write' | 'read';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class TokenCheck {
  private readonly write: Buffer;
  private readonly read: Buffer | undefined;

  constructor(token: string, readToken?: string) {
    this.write = digest(token);
    this.read = readToken === undefined ? undefined : digest(readToken);
  }

  /** What the `Authorization` header allows, or undefined for none. */
  access(header: string | undefined): Access | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return undefined;
    const given = digest(m[1]);
    if (timingSafeEqual(given, this.write)) return 'write';
    if (this.read !== undefined && timingSafeEqual(given, this.read)) return 'read';
    return undefined;
  }
}
