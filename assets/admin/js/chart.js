// A small SVG chart: stacked bars of run outcomes per day and a line of the
// average run duration (right axis). No library, no inline script.
const NS = 'http://www.w3.org/2000/svg';
const series = [['succeeded', '#2e7d32'], ['succeededWithConflicts', '#b26a00'], ['failed', '#c62828'], ['unfinished', '#9aa5b1']];

function node(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

export function renderChart(root, days) {
  const W = 700; const H = 180; const pad = { l: 30, r: 50, t: 10, b: 30 };
  const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  svg.append(node('title', {}, 'Run outcomes and average duration per day, last 14 days'));
  const maxRuns = Math.max(1, ...days.map((d) => series.reduce((s, [k]) => s + d[k], 0)));
  const maxMs = Math.max(1, ...days.map((d) => d.avgDurationMs));
  const iw = W - pad.l - pad.r; const ih = H - pad.t - pad.b;
  const bw = iw / Math.max(1, days.length);
  const pts = [];
  days.forEach((d, i) => {
    let y = pad.t + ih;
    const x = pad.l + i * bw + bw * 0.15;
    for (const [k, color] of series) {
      const h = (d[k] / maxRuns) * ih;
      if (h > 0) {
        y -= h;
        const r = node('rect', { x, y, width: bw * 0.7, height: h, fill: color });
        r.append(node('title', {}, `${d.day}: ${d[k]} ${k}`));
        svg.append(r);
      }
    }
    pts.push(`${pad.l + i * bw + bw / 2},${pad.t + ih - (d.avgDurationMs / maxMs) * ih}`);
    if (i % 2 === 0) svg.append(node('text', { x: pad.l + i * bw + bw / 2, y: H - 10, 'font-size': 10, 'text-anchor': 'middle' }, d.day.slice(5)));
  });
  svg.append(node('polyline', { points: pts.join(' '), fill: 'none', stroke: '#0b63ce', 'stroke-width': 2 }));
  svg.append(node('text', { x: 2, y: pad.t + 8, 'font-size': 10 }, String(maxRuns)));
  svg.append(node('text', { x: W - pad.r + 4, y: pad.t + 8, 'font-size': 10, fill: '#0b63ce' }, `${(maxMs / 1000).toFixed(1)} s`));
  svg.append(node('line', { x1: pad.l, y1: pad.t + ih, x2: W - pad.r, y2: pad.t + ih, stroke: '#bcccdc' }));
  root.replaceChildren(svg);
  root.dataset.days = String(days.length);
}
