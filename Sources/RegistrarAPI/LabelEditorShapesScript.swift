// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// Rotatable bounding boxes (the rotation about the centre, the rotate handle, resizing in
    /// the box's own frame, `[`/`]` to turn it) and keypoint skeletons from the ontology's templates.
    static let shapes = #"""
// Rotatable boxes (rotatable_bounding_box → rotatableBoundingBox {x, y, w, h, theta}): x, y, w, h
// are the unrotated box (fractions of the frame, as a bounding box's), theta the rotation about
// its centre in degrees, clockwise on screen (SVG's sense, y down), applied in image pixels.
const BOX_TOOLS = new Set(['bounding_box', 'rotatable_bounding_box']);
const shapes = {
  rotatable(o) { return !!o && o.shape === 'rotatable_bounding_box'; },
  centre(b, W, H) { return {x: (b.x + b.w / 2) * W, y: (b.y + b.h / 2) * H}; },
  /** The SVG transform drawing a rotatable box turned about its centre ('' for a plain box). */
  transform(o, W, H) {
    if (!this.rotatable(o) || !o.box.theta) return '';
    const c = this.centre(o.box, W, H);
    return ` transform="rotate(${o.box.theta} ${c.x} ${c.y})"`;
  },
  /** A point of the box's own frame (pixels from its centre, unrotated) → image pixels. */
  world(b, W, H, lx, ly) {
    const t = (b.theta || 0) * Math.PI / 180, c = this.centre(b, W, H);
    return {x: c.x + lx * Math.cos(t) - ly * Math.sin(t), y: c.y + lx * Math.sin(t) + ly * Math.cos(t)};
  },
  local(b, W, H, p) {
    const t = (b.theta || 0) * Math.PI / 180, c = this.centre(b, W, H), dx = p.x - c.x, dy = p.y - c.y;
    return {x: dx * Math.cos(t) + dy * Math.sin(t), y: -dx * Math.sin(t) + dy * Math.cos(t)};
  },
  /** The selected rotatable box's handles in image pixels: its 4 corners (turned) and the rotate handle above its top edge. */
  handles(o, W, H, s) {
    const b = o.box, hw = b.w * W / 2, hh = b.h * H / 2;
    const corners = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].map(([x, y]) => this.world(b, W, H, x, y));
    return {corners, rotate: this.world(b, W, H, 0, -hh - 24 / s)};
  },
  /** Drags corner `index` to p (pixels) with the opposite corner fixed, in the box's own frame; returns the corner now held. */
  resize(o, index, p, W, H) {
    const b = o.box, hw = b.w * W / 2, hh = b.h * H / 2;
    const corners = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]];
    const opp = corners[(index + 2) % 4], q = this.local(b, W, H, p);
    const x0 = Math.min(opp[0], q.x), x1 = Math.max(opp[0], q.x), y0 = Math.min(opp[1], q.y), y1 = Math.max(opp[1], q.y);
    const c = this.world(b, W, H, (x0 + x1) / 2, (y0 + y1) / 2), w = x1 - x0, h = y1 - y0;
    Object.assign(b, {x: (c.x - w / 2) / W, y: (c.y - h / 2) / H, w: w / W, h: h / H});
    return [[0, 3], [1, 2]][q.x < opp[0] ? 0 : 1][q.y < opp[1] ? 0 : 1];
  },
  /** The rotate handle dragged to p: theta points the box's top towards p (0.1° steps, -180..180). */
  rotateTo(o, p, W, H) {
    const c = this.centre(o.box, W, H);
    o.box.theta = this.normal(Math.atan2(p.y - c.y, p.x - c.x) * 180 / Math.PI + 90);
  },
  normal(t) { t = ((t + 180) % 360 + 360) % 360 - 180; return Math.round(t * 10) / 10; },
  /** `[` `]` turn the selected rotatable box 5° (`{` `}` 1°) counter-clockwise / clockwise. */
  key(e) {
    const step = {'[': -5, ']': 5, '{': -1, '}': 1}[e.key];
    const o = app.object(canvas.selected);
    if (step === undefined || !this.rotatable(o) || !app.editable()) return false;
    e.preventDefault();
    const before = app.snapshot();
    o.box.theta = this.normal((o.box.theta || 0) + step);
    app.changed(before);
    app.say(`Rotated to ${o.box.theta}°.`);
    return true;
  },

  // Skeletons (skeleton → skeleton {"0": {x, y, name, color, featureHash, value, visibility}, …}):
  // the ontology's template (skeleton_templates[].template: vertices and edges) whose name is the
  // object's (else whose feature_node_hash is its featureNodeHash, else the only one) gives the
  // keypoints, placed one click (or Space) each in the template's order.
  VISIBILITY: ['visible', 'invisible', 'occluded', 'selfOccluded'],
  template(featureHash) {
    const def = ONTOLOGY.object(featureHash), list = ONTOLOGY.templates || [];
    return list.find((t) => def && t.name === def.name) || list.find((t) => def && t.feature_node_hash === def.featureNodeHash)
      || (list.length === 1 ? list[0] : null);
  },
  vertices(t) { return Object.keys((t && t.skeleton) || {}).sort((a, b) => a - b).map((k) => Object.assign({key: k}, t.skeleton[k])); },
  /** Places the next keypoint of the skeleton being drawn; the last one adds the object. */
  placeKeypoint(p) {
    const t = this.template(canvas.classHash), vs = this.vertices(t);
    if (!vs.length) { app.say('This skeleton has no template in the ontology (skeleton_templates).', true); return; }
    if (!canvas.draft) canvas.draft = {points: []};
    canvas.draft.points.push(p);
    if (canvas.draft.points.length < vs.length) { canvas.renderDraft(); this.prompt(); return; }
    const pts = canvas.draft.points; canvas.draft = null; canvas.renderDraft();
    app.addObject(canvas.classHash, 'skeleton', {points: pts.map((q) => [q.x / canvas.W, q.y / canvas.H]),
      skeleton: vs.map((v) => ({name: v.name, color: v.color || null, featureHash: v.featureHash || v.feature_hash || null, value: v.value || snake(v.name || ''), visibility: 'visible'}))});
  },
  prompt() {
    const vs = this.vertices(this.template(canvas.classHash)), n = canvas.draft ? canvas.draft.points.length : 0;
    if (canvas.tool === 'skeleton' && vs.length) $('tool-state').textContent = `Skeleton: place ${vs[n] ? vs[n].name : '?'} (${n + 1} of ${vs.length}); Esc cancels.`;
  },
  /** SVG of a skeleton: its template's edges, then its keypoints (hollow when not visible). */
  skeletonSVG(o, attrs, W, H, s) {
    const t = this.template(o.featureHash), vs = this.vertices(t), idx = new Map(vs.map((v, i) => [v.key, i]));
    const out = [];
    for (const [a, ends] of Object.entries((t && t.skeletonEdges) || {})) {
      for (const b of Object.keys(ends || {})) {
        const p = o.points[idx.get(a)], q = o.points[idx.get(b)];
        if (p && q) out.push(`<line ${attrs} x1="${p[0] * W}" y1="${p[1] * H}" x2="${q[0] * W}" y2="${q[1] * H}"/>`);
      }
    }
    o.points.forEach((p, i) => {
      const meta = (o.skeleton || [])[i] || {}, shown = (meta.visibility || 'visible') === 'visible';
      out.push(`<circle ${attrs} data-keypoint="${i}" cx="${p[0] * W}" cy="${p[1] * H}" r="${5 / s}" fill="${shown ? esc(meta.color || '#fff') : 'none'}"/>`);
    });
    return out.join('');
  },
  /** The selected skeleton's keypoints in the attributes panel: each one's visibility. */
  panel(box, o) {
    if (!o || o.shape !== 'skeleton') return;
    const fs = el('fieldset', {class: 'keypoints'}, el('legend', {text: 'Keypoints'}));
    (o.skeleton || []).forEach((meta, i) => {
      const id = `kp-${i}`;
      const sel = el('select', {id, 'data-keypoint': String(i)});
      for (const v of this.VISIBILITY) sel.append(el('option', {value: v, text: v, selected: (meta.visibility || 'visible') === v}));
      sel.addEventListener('change', () => { const before = app.snapshot(); meta.visibility = sel.value; app.changed(before); });
      fs.append(el('div', {class: 'field'}, el('label', {for: id, text: `${i + 1}. ${meta.name || '?'}`}), sel));
    });
    box.append(fs);
  },
};
"""#
}
