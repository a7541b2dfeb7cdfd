// Per-process sliding windows.
export { Tracker, windowsOfTrace, type TrackerOptions, type WindowingOptions } from './tracker.js';
