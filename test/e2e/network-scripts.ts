/**
 * Functions that run INSIDE the page for network-admin.test.ts (`page.evaluate(fn, arg)`), like
 * page-scripts.ts: Playwright sends their source, so they use nothing from this module's scope; the
 * root tsconfig has no DOM lib, so the DOM shapes they touch are declared here, for this file only.
 */

interface Canvas2d {
  drawImage(image: unknown, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): Canvas2d | null;
}
declare const document: {
  querySelector(selector: string): unknown;
  createElement(tag: 'canvas'): Canvas;
  activeElement: { id: string } | null;
};

/** How many distinct colours the canvas matching `selector` shows, scaled to 64×64 (0 when absent). */
export function canvasColours(selector: string): number {
  const source = document.querySelector(selector);
  if (!source) return 0;
  const copy = document.createElement('canvas');
  copy.width = 64;
  copy.height = 64;
  const ctx = copy.getContext('2d');
  if (!ctx) return 0;
  ctx.drawImage(source, 0, 0, 64, 64);
  const d = ctx.getImageData(0, 0, 64, 64).data;
  const seen = new Set<number>();
  for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
  return seen.size;
}

/** The id of the element with keyboard focus ('' when none). */
export function activeId(): string {
  return document.activeElement?.id ?? '';
}
