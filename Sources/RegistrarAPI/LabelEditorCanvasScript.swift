// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// The SVG canvas: zoom, pan, the drawing tools, selection and editing, the keyboard crosshair.
    static let canvas = #"""
// The canvas: the image and the labels as SVG in image pixels under one zoom/pan transform.
// Tools: select (edit, move, delete), box, polygon, polyline, point. Everything the mouse does
// can be done from the keyboard with the crosshair (arrows move it, Space places a point).
const SVGNS = 'http://www.w3.org/2000/svg';
const canvas = {
  W: 1, H: 1, s: 1, tx: 0, ty: 0, tool: 'select', classHash: null, draft: null, selected: null,
  cursor: null, drag: null, lastRenderMs: 0,
  init() {
    this.svg = $('canvas'); this.view = $('view'); this.img = $('media'); this.shapes = $('shapes'); this.draftLayer = $('draft'); this.cross = $('crosshair');
    this.svg.addEventListener('pointerdown', (e) => this.down(e));
    this.svg.addEventListener('pointermove', (e) => this.move(e));
    this.svg.addEventListener('pointerup', (e) => this.up(e));
    this.svg.addEventListener('dblclick', (e) => { e.preventDefault(); this.finish(); });
    this.svg.addEventListener('wheel', (e) => { e.preventDefault(); const p = this.screen(e); this.zoomAt(p.x, p.y, e.deltaY < 0 ? 1.2 : 1 / 1.2); }, {passive: false});
    window.addEventListener('resize', () => this.fit());
  },
  load(link, width, height) {
    this.W = width || 1; this.H = height || 1;
    this.img.setAttribute('width', this.W); this.img.setAttribute('height', this.H);
    this.img.setAttribute('href', link || '');
    this.cursor = {x: this.W / 2, y: this.H / 2};
    this.fit();
  },
  fit() {
    const r = this.svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    this.s = Math.min(r.width / this.W, r.height / this.H) * 0.98;
    this.tx = (r.width - this.W * this.s) / 2; this.ty = (r.height - this.H * this.s) / 2;
    this.applyView();
  },
  applyView() { this.view.setAttribute('transform', `translate(${this.tx} ${this.ty}) scale(${this.s})`); this.render(); },
  zoomAt(sx, sy, f) {
    const s = Math.min(64, Math.max(0.02, this.s * f)); const k = s / this.s;
    this.tx = sx - (sx - this.tx) * k; this.ty = sy - (sy - this.ty) * k; this.s = s; this.applyView();
  },
  zoom(f) { const r = this.svg.getBoundingClientRect(); this.zoomAt(r.width / 2, r.height / 2, f); },
  pan(dx, dy) { this.tx += dx; this.ty += dy; this.applyView(); },
  screen(e) { const r = this.svg.getBoundingClientRect(); return {x: e.clientX - r.left, y: e.clientY - r.top}; },
  /** A pointer event → image pixels (clamped to the image). */
  pixel(e) { const p = this.screen(e); return {x: Math.min(this.W, Math.max(0, (p.x - this.tx) / this.s)), y: Math.min(this.H, Math.max(0, (p.y - this.ty) / this.s))}; },
  setTool(tool, classHash) {
    this.cancelDraft(); this.tool = tool; this.classHash = classHash || null;
    this.svg.dataset.tool = tool; app.toolChanged();
  },
  cancelDraft() { this.draft = null; this.renderDraft(); },

  // Pointer: draw with the current tool, or select / move / reshape / pan.
  down(e) {
    if (e.button === 1 || (e.button === 0 && e.altKey)) { this.drag = {kind: 'pan', start: this.screen(e), tx: this.tx, ty: this.ty}; this.svg.setPointerCapture(e.pointerId); return; }
    if (e.button !== 0 || !app.editable()) {
      if (e.button === 0) { this.drag = {kind: 'pan', start: this.screen(e), tx: this.tx, ty: this.ty}; this.svg.setPointerCapture(e.pointerId); }
      return;
    }
    const p = this.pixel(e);
    this.svg.focus({preventScroll: true});
    if (this.tool === 'select') {
      const t = e.target;
      const hash = t.closest && t.closest('[data-hash]') ? t.closest('[data-hash]').dataset.hash : null;
      if (t.dataset && t.dataset.handle !== undefined && this.selected) {
        this.drag = {kind: 'handle', index: t.dataset.handle === 'rotate' ? 'rotate' : Number(t.dataset.handle), before: app.snapshot()};
      } else if (hash) {
        this.select(hash);
        this.drag = {kind: 'move', start: p, orig: JSON.parse(JSON.stringify(app.object(hash))), before: app.snapshot()};
      } else {
        this.select(null);
        this.drag = {kind: 'pan', start: this.screen(e), tx: this.tx, ty: this.ty};
      }
      this.svg.setPointerCapture(e.pointerId);
      return;
    }
    this.place(p, true);
    if (BOX_TOOLS.has(this.tool)) this.svg.setPointerCapture(e.pointerId);
  },
  move(e) {
    const p = this.pixel(e);
    if (this.tool !== 'select' && this.draft) { this.draft.hover = p; this.renderDraft(); }
    if (!this.drag) return;
    if (this.drag.kind === 'pan') { const s = this.screen(e); this.tx = this.drag.tx + s.x - this.drag.start.x; this.ty = this.drag.ty + s.y - this.drag.start.y; this.applyView(); return; }
    const o = app.object(this.selected); if (!o) return;
    const nx = p.x / this.W, ny = p.y / this.H;
    if (this.drag.kind === 'move') {
      const dx = (p.x - this.drag.start.x) / this.W, dy = (p.y - this.drag.start.y) / this.H;
      const g = this.drag.orig;
      if (o.box) { o.box.x = clamp01(Math.min(1 - g.box.w, g.box.x + dx)); o.box.y = clamp01(Math.min(1 - g.box.h, g.box.y + dy)); }
      else o.points = g.points.map((q) => [clamp01(q[0] + dx), clamp01(q[1] + dy)]);
    } else if (this.drag.kind === 'handle') {
      if (this.drag.index === 'rotate') shapes.rotateTo(o, p, this.W, this.H);
      else if (shapes.rotatable(o)) this.drag.index = shapes.resize(o, this.drag.index, p, this.W, this.H);
      else if (o.box) {
        const b = o.box; const c = [[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h]];
        const opp = c[(this.drag.index + 2) % 4];
        o.box = {x: Math.min(opp[0], nx), y: Math.min(opp[1], ny), w: Math.abs(nx - opp[0]), h: Math.abs(ny - opp[1])};
        this.drag.index = [[0, 3], [1, 2]][nx < opp[0] ? 0 : 1][ny < opp[1] ? 0 : 1];
      } else o.points[this.drag.index] = [nx, ny];
    }
    this.drag.moved = true;
    this.render();
  },
  up(e) {
    const d = this.drag; this.drag = null;
    if (d && d.moved && d.kind !== 'pan') app.changed(d.before);
    if (BOX_TOOLS.has(this.tool) && this.draft && this.draft.points.length === 1) {
      const p = this.pixel(e); const a = this.draft.points[0];
      if (Math.abs(p.x - a.x) * this.s > 3 && Math.abs(p.y - a.y) * this.s > 3) this.place(p, true);
    }
  },

  /** One point of the current tool at image pixel p (a click, or Space at the crosshair). */
  place(p, fromPointer) {
    if (!app.editable() || this.tool === 'select') return;
    const near = (a, b) => Math.hypot(a.x - b.x, a.y - b.y) * this.s < 8;
    if (this.tool === 'point') { app.addObject(this.classHash, 'point', {points: [[p.x / this.W, p.y / this.H]]}); return; }
    if (this.tool === 'skeleton') { shapes.placeKeypoint(p); return; }
    if (!this.draft) { this.draft = {points: [p]}; this.renderDraft(); return; }
    const pts = this.draft.points;
    if (BOX_TOOLS.has(this.tool)) {
      const a = pts[0];
      if (a.x === p.x || a.y === p.y) return;
      this.draft = null; this.renderDraft();
      const box = {x: Math.min(a.x, p.x) / this.W, y: Math.min(a.y, p.y) / this.H, w: Math.abs(p.x - a.x) / this.W, h: Math.abs(p.y - a.y) / this.H};
      app.addObject(this.classHash, this.tool, {box: this.tool === 'rotatable_bounding_box' ? Object.assign(box, {theta: 0}) : box});
      return;
    }
    if (this.tool === 'polygon' && pts.length >= 3 && near(pts[0], p) && fromPointer) { this.finish(); return; }
    if (near(pts[pts.length - 1], p) && fromPointer) return;   // a double-click's second click
    pts.push(p); this.renderDraft();
  },
  /** Ends a polygon (≥ 3 points) or polyline (≥ 2). */
  finish() {
    if (!this.draft || (this.tool !== 'polygon' && this.tool !== 'polyline')) return;
    const need = this.tool === 'polygon' ? 3 : 2;
    const pts = this.draft.points;
    if (pts.length < need) { app.say(`A ${this.tool} needs at least ${need} points.`); return; }
    this.draft = null; this.renderDraft();
    app.addObject(this.classHash, this.tool, {points: pts.map((q) => [q.x / this.W, q.y / this.H])});
  },
  select(hash) { this.selected = hash; this.render(); app.selectionChanged(); },

  // Keyboard crosshair (arrows: 10 px, Shift: 1 px, Alt: 100 px of the image).
  moveCursor(dx, dy) {
    const c = this.cursor; c.x = Math.min(this.W, Math.max(0, c.x + dx)); c.y = Math.min(this.H, Math.max(0, c.y + dy));
    if (this.draft) this.draft.hover = {x: c.x, y: c.y};
    this.renderCursor(); this.renderDraft();
  },

  // Drawing.
  render() {
    const t0 = performance.now();
    const W = this.W, H = this.H, sw = 2 / this.s;
    const parts = [];
    for (const o of app.model.objects) {
      if (!frames.shows(o)) continue;   // a video shows the current frame's instances
      const def = ONTOLOGY.object(o.featureHash) || {color: '#000', name: '?'};
      const sel = o.hash === this.selected;
      const attrs = `data-hash="${esc(o.hash)}" class="obj${sel ? ' sel' : ''}" stroke="${esc(def.color)}" stroke-width="${sel ? 2 * sw : sw}"`;
      if (o.box) parts.push(`<rect ${attrs}${shapes.transform(o, W, H)} x="${o.box.x * W}" y="${o.box.y * H}" width="${o.box.w * W}" height="${o.box.h * H}" fill="${esc(def.color)}" fill-opacity="0.15"/>`);
      else if (o.shape === 'skeleton') parts.push(shapes.skeletonSVG(o, attrs, W, H, this.s));
      else if (o.shape === 'point') parts.push(`<circle ${attrs} cx="${o.points[0][0] * W}" cy="${o.points[0][1] * H}" r="${5 / this.s}" fill="${esc(def.color)}"/>`);
      else {
        const pts = o.points.map((q) => `${q[0] * W},${q[1] * H}`).join(' ');
        parts.push(o.shape === 'polygon' ? `<polygon ${attrs} points="${pts}" fill="${esc(def.color)}" fill-opacity="0.15"/>`
                                         : `<polyline ${attrs} points="${pts}" fill="none"/>`);
      }
    }
    const sel = app.object(this.selected);
    if (sel && app.editable() && shapes.rotatable(sel)) {
      const {corners, rotate} = shapes.handles(sel, W, H, this.s), top = shapes.world(sel.box, W, H, 0, -sel.box.h * H / 2);
      parts.push(`<line class="rotate-arm" x1="${top.x}" y1="${top.y}" x2="${rotate.x}" y2="${rotate.y}" stroke-width="${1 / this.s}"/>`);
      corners.forEach((q, i) => parts.push(`<rect class="handle" data-handle="${i}" x="${q.x - 4 / this.s}" y="${q.y - 4 / this.s}" width="${8 / this.s}" height="${8 / this.s}" stroke-width="${1 / this.s}"/>`));
      parts.push(`<circle class="handle" data-handle="rotate" cx="${rotate.x}" cy="${rotate.y}" r="${6 / this.s}" stroke-width="${1 / this.s}"/>`);
    } else if (sel && app.editable()) {
      const hs = sel.box ? [[sel.box.x, sel.box.y], [sel.box.x + sel.box.w, sel.box.y], [sel.box.x + sel.box.w, sel.box.y + sel.box.h], [sel.box.x, sel.box.y + sel.box.h]] : sel.points;
      hs.forEach((q, i) => parts.push(`<rect class="handle" data-handle="${i}" x="${q[0] * W - 4 / this.s}" y="${q[1] * H - 4 / this.s}" width="${8 / this.s}" height="${8 / this.s}" stroke-width="${1 / this.s}"/>`));
    }
    this.shapes.innerHTML = parts.join('');
    this.renderCursor();
    this.lastRenderMs = performance.now() - t0;
    this.svg.dataset.renderMs = this.lastRenderMs.toFixed(2);
    this.svg.dataset.objects = String(app.model.objects.length);
  },
  renderDraft() {
    const d = this.draft;
    if (!d) { this.draftLayer.innerHTML = ''; return; }
    const pts = d.points.concat(d.hover ? [d.hover] : []);
    const sw = 2 / this.s;
    if (BOX_TOOLS.has(this.tool) && pts.length === 2) {
      const [a, b] = pts;
      this.draftLayer.innerHTML = `<rect x="${Math.min(a.x, b.x)}" y="${Math.min(a.y, b.y)}" width="${Math.abs(b.x - a.x)}" height="${Math.abs(b.y - a.y)}" stroke-width="${sw}"/>`;
    } else {
      this.draftLayer.innerHTML = `<polyline points="${pts.map((q) => q.x + ',' + q.y).join(' ')}" stroke-width="${sw}"/>` +
        d.points.map((q) => `<circle cx="${q.x}" cy="${q.y}" r="${3 / this.s}"/>`).join('');
    }
  },
  renderCursor() {
    const c = this.cursor;
    if (!c || !app.keyboardCursor) { this.cross.innerHTML = ''; return; }
    const r = 12 / this.s, sw = 1.5 / this.s;
    this.cross.innerHTML = `<line x1="${c.x - r}" y1="${c.y}" x2="${c.x + r}" y2="${c.y}" stroke-width="${sw}"/><line x1="${c.x}" y1="${c.y - r}" x2="${c.x}" y2="${c.y + r}" stroke-width="${sw}"/>`;
    $('cursor-pos').textContent = `Crosshair at ${Math.round(c.x)}, ${Math.round(c.y)} px`;
  },
};
"""#
}
