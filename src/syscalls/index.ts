// Syscall tables, names, the model mapping file and the tokenizer.
export { SYSCALL_TABLES } from './tables.js';
export { NAMES_BY_NUMBER, TWIN_OF, normaliseName, syscallName } from './names.js';
export { FIRST_MAPPING_ID, MappingError, formatMapping, parseMapping, readMapping } from './mapping.js';
export { nativeAbiOf } from './abi.js';
export { NOT_A_SYSCALL, PADDING_TOKEN, Tokenizer, UNKNOWN_TOKEN } from './tokenizer.js';
