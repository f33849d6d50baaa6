/**
 * The 3D globe of the network page (globe.gl over three.js, WebGL). globe.gl is ~530 kB gzip, so it
 * is imported here on mount only: its chunk loads on the network page and nowhere else. No texture
 * or data is fetched at run time: the sphere is a plain material with graticules.
 *
 * Points are locations (radius by traffic), arcs the traffic between them; hovering shows a
 * location's or flow's totals (also in the `aria-live` line under the globe), clicking a point
 * calls `onSelect`. When the import or the renderer fails, `onFail` is called (the page then shows
 * the table).
 */
import { createEffect, onCleanup, onMount, type JSX } from 'solid-js';
import { formatBytes } from '../state/jobs.js';
import type { GlobeArc, GlobeModel, GlobePoint } from './model.js';

export interface GlobeProps {
  model: GlobeModel;
  onSelect: (location: string) => void;
  onHover: (text: string | null) => void;
  onFail: (err: Error) => void;
  height?: number;
}

const pointText = (p: GlobePoint) =>
  `${p.name}: ${formatBytes(p.bytes)}, ${p.packets.toLocaleString()} packets; ${p.sensors.length} sensors (${p.online} online)`;
const arcText = (a: GlobeArc) => `${a.from} → ${a.to}: ${formatBytes(a.bytes)}, ${a.packets.toLocaleString()} packets`;

/** Escapes text for globe.gl's HTML labels. */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function NetworkGlobe(props: GlobeProps): JSX.Element {
  let host!: HTMLDivElement;
  let globe:
    | {
        _destructor(): void;
        pointsData(d: object[]): unknown;
        arcsData(d: object[]): unknown;
        width(w: number): unknown;
        pointOfView(pov: { lat: number; lng: number; altitude: number }, ms?: number): unknown;
      }
    | undefined;
  let aimed = false;
  let disposed = false;

  onMount(() => {
    void (async () => {
      try {
        const { default: Globe } = await import('globe.gl');
        if (disposed) return;
        const g = new Globe(host, { rendererConfig: { antialias: true, preserveDrawingBuffer: true } })
          .width(host.clientWidth || 800)
          .height(props.height ?? 480)
          .backgroundColor('rgba(0,0,0,0)')
          .showGraticules(true)
          .showAtmosphere(true)
          .pointLat('lat')
          .pointLng('lng')
          .pointRadius('radius')
          .pointAltitude(0.02)
          .pointColor(() => '#ffb020')
          .pointLabel((o: object) => esc(pointText(o as GlobePoint)))
          .onPointHover((o: object | null) => props.onHover(o ? pointText(o as GlobePoint) : null))
          .onPointClick((o: object) => props.onSelect((o as GlobePoint).name))
          .arcStroke('stroke')
          .arcColor(() => ['#ffb020', '#40c4ff'])
          .arcDashLength(0.5)
          .arcDashGap(0.2)
          .arcDashAnimateTime(4000)
          .arcLabel((o: object) => esc(arcText(o as GlobeArc)))
          .onArcHover((o: object | null) => props.onHover(o ? arcText(o as GlobeArc) : null));
        // The default material (MeshPhong) in the ocean colour: no texture is fetched.
        (g.globeMaterial() as unknown as { color: { set(c: string): void } }).color.set('#1d4f7a');
        globe = g;
        const resize = new ResizeObserver(() => g.width(host.clientWidth || 800));
        resize.observe(host);
        onCleanupLater.push(() => resize.disconnect());
        draw();
        host.dataset.ready = 'true';
      } catch (err) {
        props.onFail(err instanceof Error ? err : new Error(String(err)));
      }
    })();
  });

  const onCleanupLater: (() => void)[] = [];
  function draw(): void {
    if (!globe) return;
    globe.pointsData(props.model.points);
    globe.arcsData(props.model.arcs);
    // Face the busiest location once (later redraws keep the user's view).
    const first = props.model.points[0];
    if (first && !aimed) {
      aimed = true;
      globe.pointOfView({ lat: first.lat, lng: first.lng, altitude: 2.2 }, 0);
    }
  }
  createEffect(() => {
    void props.model;
    draw();
  });

  onCleanup(() => {
    disposed = true;
    for (const f of onCleanupLater) f();
    globe?._destructor();
  });

  return <div class="globe" ref={host} role="img" aria-label="Globe of the locations and the traffic between them" />;
}
