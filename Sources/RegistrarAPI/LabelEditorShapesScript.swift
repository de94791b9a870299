// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// Rotatable bounding boxes: the rotation about the centre, the rotate handle, resizing in
    /// the box's own frame, `[`/`]` to turn it.
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
};
"""#
}
