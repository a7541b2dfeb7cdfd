import type { OutboxMessage } from '../core/storage.js';
// What an outbox loop needs from a reporter (MQTT, Ntfy): send one stored message and say
// how it went. The reporter owns its connection; the loop owns order, retries and the store.

export type SendResult =
  /** The receiver acknowledged it (MQTT PUBACK, HTTP 2xx). */
  | { kind: 'delivered' }
  /** Not now (offline, 5xx, 429, network): try again later, `afterMs` if the receiver said. */
  | { kind: 'retry'; reason: string; afterMs?: number }
  /** The receiver refused this message (4xx other than 429); counts towards dead-lettering. */
  | { kind: 'rejected'; reason: string };

export interface Reporter {
  /** Outbox name; also the `reporter` column of its outbox rows. */
  readonly name: string;
  /** Messages that may be in flight at once (default 1: strictly one after another). */
  readonly maxInFlight?: number;
  /** Sends one message. Resolves with the outcome; never rejects. */
  send(message: OutboxMessage): Promise<SendResult>;
  /** Registers a callback for when the reporter can send again (e.g. after a reconnect). */
  onReady?(callback: () => void): void;
}
