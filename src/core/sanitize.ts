// Strings from the watched host (binary names, arguments, pod names) are attacker-chosen:
// before they reach a phone notification or a topic name, strip what could fake or break
// the display and cap their length.

/**
 * C0/C1 control characters (ESC starts terminal escape sequences), line and paragraph
 * separators, and Unicode bidirectional controls that reorder displayed text.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
/** A surrogate without its pair (not a character; printed as U+FFFD at best). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` without control characters (each becomes a space) or lone surrogates (U+FFFD), at most `max` characters. */
export function safeText(s: string, max: number): string {
  const clean = s.replace(UNSAFE, ' ').replace(LONE_SURROGATE, '\ufffd');
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 1))}…`;
}

/** Longest node id used in a topic. */
export const MAX_TOPIC_SEGMENT = 64;

/**
 * One MQTT topic level from a node name: no `/` (level separator), no `+ #` (wildcards),
 * no control characters or spaces; empty becomes `unknown`.
 */
export function topicSegment(s: string): string {
  const clean = s
    .replace(UNSAFE, '_')
    .replace(LONE_SURROGATE, '_')
    .replace(/[/+#\s]/g, '_')
    .slice(0, MAX_TOPIC_SEGMENT)
    .replace(/[\ud800-\udbff]$/, '_');
  return clean === '' ? 'unknown' : clean;
}

/** `scheme://user:password@`: the password part. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:"]*):([^\s/@"]*)@/gi;
/** Query parameters that carry credentials (`?token=…`, `&auth=…`). */
const URL_SECRET_PARAM = /([?&](?:token|auth|access_token|password|passwd|secret|api_?key|key)=)[^&\s#"]*/gi;

/**
 * `s` with the credentials of every URL in it replaced by `redacted` (user names stay; the URL
 * stays a valid URL).
 */
export function redactUrlCredentials(s: string): string {
  if (!s.includes('://')) return s;
  return s.replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:redacted@`).replace(URL_SECRET_PARAM, '$1redacted');
}

/**
 * Characters JSON leaves as they are that a terminal may still act on (C1 controls, DEL,
 * bidirectional overrides) become `\uXXXX` escapes: in a JSON text the escape means the same
 * character, so the line stays valid JSON with the same values.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function escapeJsonForTerminal(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
