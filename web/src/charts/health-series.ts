/** HealthPoint[] → uPlot's columnar data, and a text summary of it. */
import type { HealthPoint } from '../api/types.js';

export type Columns = [number[], (number | null)[], (number | null)[], (number | null)[], (number | null)[]];

/** [time (s), cpu %, memory %, disk %, load1] columns in time order. */
export function seriesOf(points: readonly HealthPoint[]): Columns {
  const cols: Columns = [[], [], [], [], []];
  for (const p of points) {
    cols[0].push(Date.parse(p.at) / 1000);
    cols[1].push(p.cpu);
    cols[2].push(p.memoryTotal > 0 ? (p.memoryUsed / p.memoryTotal) * 100 : null);
    cols[3].push(p.diskUsedPercent);
    cols[4].push(p.load1);
  }
  return cols;
}

/** "CPU % min 1 / avg 3 / max 9; ..." over the points, or "no health samples in this range". */
export function summarise(points: readonly HealthPoint[]): string {
  if (points.length === 0) return 'no health samples in this range';
  const [, ...series] = seriesOf(points);
  const names = ['CPU %', 'Memory %', 'Disk %', 'Load'];
  return series
    .map((values, i) => {
      const v = values.filter((x): x is number => x !== null);
      if (v.length === 0) return `${names[i]}: no data`;
      const avg = v.reduce((a, b) => a + b, 0) / v.length;
      return `${names[i]} min ${Math.min(...v).toFixed(1)} / avg ${avg.toFixed(1)} / max ${Math.max(...v).toFixed(1)}`;
    })
    .join('; ');
}
