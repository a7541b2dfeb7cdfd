// Strings from the watched host (binary names, arguments, pod names) are attacker-chosen:
// before they reach a phone notification or a topic name, strip what could fake or break
// the display and cap their length.

/** C0/C1 control characters, and Unicode bidirectional overrides that reorder displayed text. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `s` without control characters (each becomes a space), at most `max` characters. */
export function safeText(s: string, max: number): string {
  const clean = s.replace(UNSAFE, ' ');
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 1))}…`;
}

/** Longest node id used in a topic. */
export const MAX_TOPIC_SEGMENT = 64;

/**
 * One MQTT topic level from a node name: no `/` (level separator), no `+ #` (wildcards),
 * no control characters or spaces; empty becomes `unknown`.
 */
export function topicSegment(s: string): string {
  const clean = s.replace(/[/+#\s\u0000-\u001f\u007f-\u009f]/g, '_').slice(0, MAX_TOPIC_SEGMENT);
  return clean === '' ? 'unknown' : clean;
}
