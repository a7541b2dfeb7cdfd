// The dashboard's files: src/hub/web/ and the plot library's two files from node_modules,
// read through the runtime's asset layer (the checkout's files under Node, the embedded
// copies in the compiled binary) once, then served from memory.
import { readAsset } from '../../runtime/assets.js';

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** URL path → shipped file (relative to the checkout) and its content type. */
export const DASHBOARD_FILES: Readonly<Record<string, { asset: string; type: string }>> = {
  '/': { asset: 'src/hub/web/index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { asset: 'src/hub/web/app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { asset: 'src/hub/web/style.css', type: 'text/css; charset=utf-8' },
  '/vendor/uplot.js': { asset: 'node_modules/uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/vendor/uplot.css': { asset: 'node_modules/uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/** Files as the server serves them, read on first use. */
export function dashboardFiles(read: (asset: string) => Buffer = readAsset): (path: string) => StaticFile | undefined {
  const cache = new Map<string, StaticFile>();
  return (path) => {
    const entry = DASHBOARD_FILES[path === '/index.html' ? '/' : path];
    if (!entry) return undefined;
    let f = cache.get(entry.asset);
    if (!f) {
      f = { body: read(entry.asset), type: entry.type };
      cache.set(entry.asset, f);
    }
    return f;
  };
}
