// The daemon's composition root: everything `argos run`, `argos replay` and `argos learn` run,
// built from the configuration and wired in the order of the data flow.
export { buildPipeline, Pipeline, SOURCE_IDLE_LIMIT_MS, type PipelineOptions } from './pipeline.js';
export { buildLearner, type Learner } from './learner.js';
export { resolveGeometry, DEFAULT_WINDOW, DEFAULT_MIN_WINDOW, type Geometry } from './geometry.js';
export { createSource, type SourceDeps } from './sources.js';
export { buildReporting, type ConfiguredReporting } from './reporting.js';
