/** Types of launch.js (plain JavaScript so that bin scripts run without a build). */

/**
 * Node arguments that run a workspace's entry module: `[dist/bundle/<bundled>.js | dist/<entry>.js]` when
 * built (and PCAPMESH_FROM_SOURCE is not 1), else the tsx arguments and `src/<entry>.ts`.
 */
export function entryArgs(workspaceRoot: string | URL, entry: string, bundled?: string): { compiled: boolean; args: string[] };

/** Runs a workspace command for a bin script: its build in this process, else its source in a tsx child. */
export function launch(binUrl: string, entry: string, bundled?: string): Promise<void>;
