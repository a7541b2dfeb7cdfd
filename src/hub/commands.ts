// Operator commands to a node: checked against the contract's own parser (what a node
// accepts), stored, then published on `<prefix>/<node>/cmd` (QoS 1). The node's answer on
// `cmd/result` comes back through the ingest and completes the stored command.
import { parseCommand, topicFor, type NodeCommand } from '../core/mqtt.js';
import { uuidv7 } from '../core/alert.js';
import { topicSegment } from '../core/sanitize.js';
import type { Clock } from '../core/time.js';
import type { HubStore } from './store/store.js';

export interface CommandPublisher {
  publish(topic: string, payload: string): Promise<void>;
}

export interface CommanderOptions {
  store: Pick<HubStore, 'saveCommand' | 'deleteCommand' | 'nodeExists'>;
  mqtt: CommandPublisher;
  prefix: string;
  clock: Clock;
}

/** Why a command was not sent: the HTTP status that says so and a readable message. */
export class CommandError extends Error {
  constructor(
    readonly status: 400 | 404 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export class Commander {
  readonly counts = { sent: 0, failed: 0 };

  constructor(private readonly o: CommanderOptions) {}

  /** Sends `body` (a command without its id) to `node`; resolves with the command once the broker took it. */
  async send(node: string, body: unknown): Promise<NodeCommand> {
    if (topicSegment(node) !== node) throw new CommandError(400, 'not a node id');
    const id = uuidv7(this.o.clock.now());
    const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const parsed = parseCommand(JSON.stringify({ ...fields, id }));
    if (!parsed.ok) throw new CommandError(400, parsed.error);
    if (!(await this.o.store.nodeExists(node))) throw new CommandError(404, `no node "${node}" has reported to this hub`);
    const command = parsed.command;
    await this.o.store.saveCommand(node, command, this.o.clock.now());
    try {
      await this.o.mqtt.publish(topicFor(this.o.prefix, node, 'cmd'), JSON.stringify(command));
    } catch (e) {
      this.counts.failed++;
      await this.o.store.deleteCommand(command.id).catch(() => undefined);
      throw new CommandError(503, `the command could not be published (${(e as Error).message}); try again`);
    }
    this.counts.sent++;
    return command;
  }
}
