"""Presentation mode (the checkbox at the top): besides the page zoom, every plotly figure is redrawn with larger
fonts, markers and lines (arrows are lines with arrow markers), and the animations in their iframes do the same.

HEAD goes into the page's <head> (app.LAUNCH_KWARGS). It wraps Plotly.newPlot / Plotly.react (the global plotly.js
that gr.Plot draws with) so that, while <html> has the class dx-present, each figure is drawn from a scaled copy of
its data and layout; the original spec is kept on the plot's element, so turning the mode off redraws it as it was.
window.dxPresent(on) toggles the class, redraws what is on the page and tells each animation iframe (explorer/viz/
animation.py's page listens for {dxPresent: on} and reads the parent's class when it loads).
"""
from __future__ import annotations

from ..viz.animation import PRESENT_SCALE as SCALE   # fonts, markers, line widths x SCALE (on top of the page zoom)

HEAD = """<script>
(() => {
  const K = %(scale)s;
  const on = () => document.documentElement.classList.contains('dx-present');
  const clone = (o) => { try { return structuredClone(o); } catch (e) { return JSON.parse(JSON.stringify(o)); } };
  const bigFont = (f, base) => Object.assign({}, f || {}, {size: ((f && f.size) || base) * K});
  const bigTitle = (t, base) => t === undefined ? t : (typeof t === 'string' ? {text: t, font: {size: base * K}}
                                                       : Object.assign({}, t, {font: bigFont(t.font, base)}));
  function scaled(data, layout) {
    const d = clone(data || []), l = clone(layout || {});
    const base = (l.font && l.font.size) || 12;
    l.font = bigFont(l.font, 12);
    if (l.title !== undefined) l.title = bigTitle(l.title, base * 1.2);
    for (const a of l.annotations || []) a.font = bigFont(a.font, base);
    for (const k of Object.keys(l)) {
      if (!/^[xy]axis[0-9]*$/.test(k) || !l[k]) continue;
      if (l[k].title !== undefined) l[k].title = bigTitle(l[k].title, base);
      if (l[k].tickfont) l[k].tickfont = bigFont(l[k].tickfont, base);
    }
    if (l.legend && l.legend.font) l.legend.font = bigFont(l.legend.font, base);
    for (const m of [...(l.updatemenus || []), ...(l.sliders || [])]) {
      if (m.font) m.font = bigFont(m.font, base);
      if (m.currentvalue && m.currentvalue.font) m.currentvalue.font = bigFont(m.currentvalue.font, base);
    }
    if (l.margin) for (const s of ['l', 'b', 't']) if (typeof l.margin[s] === 'number') l.margin[s] *= K;
    for (const t of d) {
      const mode = t.mode || '';
      if (t.marker && typeof t.marker.size === 'number') t.marker = Object.assign({}, t.marker, {size: t.marker.size * K});
      else if (/markers/.test(mode) && !(t.marker && t.marker.size)) t.marker = Object.assign({}, t.marker, {size: 6 * K});
      if (/lines/.test(mode) || (t.type === 'scatter' && !mode) || t.line) {
        if (t.type !== 'contour' && t.type !== 'heatmap' && t.type !== 'histogram')
          t.line = Object.assign({}, t.line, {width: ((t.line && t.line.width) || 2) * K});
      }
    }
    return {data: d, layout: l};
  }
  function patch(P) {
    if (!P || P.__dxPatched) return;
    P.__dxPatched = true;
    for (const name of ['newPlot', 'react']) {
      const orig = P[name];
      P[name] = function (gd, data, layout, config) {
        const el = typeof gd === 'string' ? document.getElementById(gd) : gd;
        if (data && !Array.isArray(data) && typeof data === 'object' && 'data' in data) {
          config = data.config; layout = data.layout; data = data.data;      // the (gd, figure) form
        }
        if (el) el.__dxOrig = {data: data, layout: layout, config: config};
        if (on()) { const s = scaled(data, layout); return orig.call(P, gd, s.data, s.layout, config); }
        return orig.call(P, gd, data, layout, config);
      };
    }
  }
  let tries = 0;
  const timer = setInterval(() => { if (window.Plotly || ++tries > 600) { patch(window.Plotly); clearInterval(timer); } }, 50);
  window.dxPresent = (flag) => {
    document.documentElement.classList.toggle('dx-present', !!flag);
    if (window.Plotly) for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (!gd.__dxOrig && gd.data)        // drawn before the wrapper was in place: what it shows is the original
        gd.__dxOrig = {data: clone(gd.data), layout: clone(gd.layout), config: undefined};
      const o = gd.__dxOrig;
      if (o) window.Plotly.react(gd, o.data, o.layout, o.config);
    }
    for (const f of document.querySelectorAll('iframe.dx-anim')) {
      try { f.contentWindow.postMessage({dxPresent: !!flag}, '*'); } catch (e) { /* not loaded yet: it reads the class */ }
    }
  };
})();
</script>""" % {"scale": SCALE}

TOGGLE_JS = "(on) => { if (window.dxPresent) window.dxPresent(on); " \
            "else document.documentElement.classList.toggle('dx-present', on); }"
