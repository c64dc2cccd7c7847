// A small SVG line chart: one or more series over the same time axis, y from 0 (or the data's
// minimum) to its maximum, the last value of each series in the legend. No dependencies.

export interface Series {
  name: string;
  color: string;
  points: Array<number | null>; // one per sample, oldest first; null = no value
}

export function LineChart(props: {
  title: string;
  unit?: string;
  series: Series[];
  height?: number;
  testId?: string;
  format?: (v: number) => string;
}) {
  const width = 320;
  const height = props.height ?? 110;
  const pad = { left: 36, right: 6, top: 8, bottom: 14 };
  const n = Math.max(2, ...props.series.map((s) => s.points.length));
  const values = props.series.flatMap((s) => s.points.filter((v): v is number => v != null && Number.isFinite(v)));
  const max = Math.max(0, ...values);
  const top = max > 0 ? niceCeil(max) : 1;  // an all-zero chart still gets a readable axis
  const fmt = props.format ?? ((v: number) => formatNumber(v));
  const x = (i: number) => pad.left + ((width - pad.left - pad.right) * i) / (n - 1);
  const y = (v: number) => pad.top + (height - pad.top - pad.bottom) * (1 - v / top);
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>
        <span>{props.title}</span>
        <span className="legend">
          {props.series.map((s) => {
            const last = [...s.points].reverse().find((v) => v != null);
            return (
              <span key={s.name} className="legend-item">
                <i style={{ background: s.color }} />
                {s.name} <b>{last == null ? "–" : fmt(last)}</b>
                {props.unit && last != null ? ` ${props.unit}` : ""}
              </span>
            );
          })}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={props.title}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.left} x2={width - pad.right} y1={y(top * f)} y2={y(top * f)} className="grid" />
            <text x={pad.left - 4} y={y(top * f) + 3} className="axis" textAnchor="end">
              {fmt(top * f)}
            </text>
          </g>
        ))}
        {props.series.map((s) => (
          <path key={s.name} d={pathFor(s.points, n, x, y)} fill="none" stroke={s.color} strokeWidth={1.6} vectorEffect="non-scaling-stroke" />
        ))}
        <text x={width - pad.right} y={height - 2} className="axis" textAnchor="end">
          now
        </text>
      </svg>
    </figure>
  );
}

function pathFor(points: Array<number | null>, n: number, x: (i: number) => number, y: (v: number) => number): string {
  const offset = n - points.length; // right-align: the newest sample is at the right edge
  let d = "";
  let pen = false;
  points.forEach((v, i) => {
    if (v == null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

function niceCeil(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function formatNumber(v: number): string {
  if (v === 0) return "0";
  if (Number.isInteger(v) && Math.abs(v) < 1000) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
