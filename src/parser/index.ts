// Tetragon event lines → tokens and process events.
export { Parser, nativeAbiOf, type ParserOptions } from './parser.js';
export { textLine, processInfoFromLine, processInfoOf, interpret, abiOf, keyOf, type ParsedEvent } from './event-object.js';
