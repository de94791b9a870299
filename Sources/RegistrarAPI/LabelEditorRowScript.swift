// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// The editor's model and Encord's label row shape, both ways (normalised coordinates, answers, merge after a stale write).
    static let row = #"""
// The editor's model and Encord's label row shape (docs/labels.md, annotation-spec §2), both
// ways. Coordinates are kept normalised (0..1 of the recorded width and height) as the row
// stores them; the canvas multiplies by width and height to draw.
const SHAPE_FIELD = {bounding_box: 'boundingBox', rotatable_bounding_box: 'rotatableBoundingBox', polygon: 'polygon', polyline: 'polyline', point: 'point', skeleton: 'skeleton'};
const SUPPORTED_SHAPES = Object.keys(SHAPE_FIELD);
function sdkTime(d) { return (d || new Date()).toUTCString().replace('GMT', 'UTC'); }
function snake(s) { return String(s).trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, ''); }
/** An 8-character instance hash like the SDK's short_uuid_str(). */
function shortHash() {
  const a = new Uint8Array(6); crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).slice(0, 8);
}
const clamp01 = (v) => Math.min(1, Math.max(0, v));
const round = (v) => Math.round(v * 1e6) / 1e6;

/** The ontology, indexed: objects and classifications by feature hash, attributes anywhere. */
class Ontology {
  constructor(structure) {
    this.objects = (structure && structure.objects || []).filter((o) => !o.archived);
    this.classifications = (structure && structure.classifications || []).filter((c) => !c.archived);
    this.byHash = new Map();
    const walk = (attrs) => { for (const a of attrs || []) { this.byHash.set(a.featureNodeHash, a); for (const o of a.options || []) { this.byHash.set(o.featureNodeHash, o); walk(o.options); } } };
    for (const o of this.objects) { this.byHash.set(o.featureNodeHash, o); walk(o.attributes); }
    for (const c of this.classifications) { this.byHash.set(c.featureNodeHash, c); walk(c.attributes); }
    this.templates = (structure && structure.skeleton_templates || []).map((t) => t && t.template).filter(Boolean);
  }
  object(hash) { return this.objects.find((o) => o.featureNodeHash === hash); }
  classification(hash) { return this.classifications.find((c) => c.featureNodeHash === hash); }
}

/** Answers → the row's flattened answer list: nested attributes only under the chosen radio option.
 *  `dynamic`: false → the static attributes (object_answers), true → the dynamic ones (object_actions), null → all (classifications). */
function answerList(attrs, answers, dynamic) {
  const out = [];
  const walk = (list) => {
    for (const a of list || []) {
      const v = answers[a.featureNodeHash];
      const take = dynamic === null || !!a.dynamic === dynamic;
      if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0) && take) {
        const item = {name: a.name, value: snake(a.name), answers: null, featureHash: a.featureNodeHash, manualAnnotation: true};
        if (a.type === 'radio' || a.type === 'checklist') {
          const chosen = a.type === 'radio' ? [v] : v;
          item.answers = chosen.map((h) => (a.options || []).find((o) => o.featureNodeHash === h)).filter(Boolean)
            .map((o) => ({name: o.label, value: o.value, featureHash: o.featureNodeHash}));
        } else if (a.type === 'numeric') item.answers = Number(v);
        else item.answers = String(v);
        out.push(item);
      }
      if (a.type === 'radio' && v) { const opt = (a.options || []).find((o) => o.featureNodeHash === v); if (opt) walk(opt.options); }
    }
  };
  walk(attrs);
  return out;
}
/** The row's answer list → {attributeHash: value}. */
function readAnswers(list, into) {
  for (const item of list || []) {
    const ans = item.answers;
    if (Array.isArray(ans)) {
      const hashes = ans.map((o) => o.featureHash);
      const attr = ONTOLOGY && ONTOLOGY.byHash.get(item.featureHash);
      into[item.featureHash] = attr && attr.type === 'radio' ? hashes[0] : hashes;
    } else into[item.featureHash] = ans;
  }
  return into;
}

/** A stored row → the model. Objects of shapes this slice does not draw are kept as they are. */
/** A stored object instance → the model's object (no answers yet), or null for a shape this editor does not draw. */
function modelObject(o) {
  const field = SHAPE_FIELD[o.shape];
  if (!field || !o[field]) return null;
  const g = o[field];
  const obj = {hash: o.objectHash, featureHash: o.featureHash, shape: o.shape, createdAt: o.createdAt, createdBy: o.createdBy, answers: {}};
  if (o.shape === 'bounding_box') obj.box = {x: g.x, y: g.y, w: g.w, h: g.h};
  else if (o.shape === 'rotatable_bounding_box') obj.box = {x: g.x, y: g.y, w: g.w, h: g.h, theta: Number(g.theta) || 0};
  else obj.points = Object.keys(g).sort((a, b) => a - b).map((k) => [g[k].x, g[k].y]);
  if (o.shape === 'skeleton') obj.skeleton = Object.keys(g).sort((a, b) => a - b).map((k) =>
    ({name: g[k].name, color: g[k].color, featureHash: g[k].featureHash, value: g[k].value, visibility: g[k].visibility || 'visible'}));
  return obj;
}
function modelFromRow(row, dataHash) {
  if (frames.framed(row)) return modelFromFramedRow(row, dataHash);
  const unit = row.data_units[dataHash] || {};
  const labels = unit.labels || {};
  const model = {objects: [], classifications: {}, kept: []};
  for (const o of labels.objects || []) {
    const obj = modelObject(o);
    if (!obj) { model.kept.push(o); continue; }
    const oa = (row.object_answers || {})[o.objectHash];
    if (oa) readAnswers(oa.classifications, obj.answers);
    if (oa && Array.isArray(oa.reviews)) obj.reviews = oa.reviews;
    const acts = (row.object_actions || {})[o.objectHash];
    if (acts) readAnswers(acts.actions, obj.answers);
    model.objects.push(obj);
  }
  for (const [h, c] of Object.entries(row.classification_answers || {})) {
    model.classifications[c.featureHash] = {hash: h, createdAt: c.createdAt, createdBy: c.createdBy, answers: readAnswers(c.classifications, {})};
    if (Array.isArray(c.reviews)) model.classifications[c.featureHash].reviews = c.reviews;
  }
  return model;
}

/** The model → the row to PUT: the stored row's fixed fields (the server replaces them anyway) with our labels. */
/** The model's object → the row's object instance (geometry clamped to the frame). */
function instanceFromModel(o, def, me, now) {
  const out = {name: def.name, color: def.color, shape: o.shape, value: snake(def.name), createdAt: o.createdAt || now,
               createdBy: o.createdBy || me, confidence: 1.0, objectHash: o.hash, featureHash: o.featureHash,
               manualAnnotation: true, lastEditedAt: now, lastEditedBy: me};
  if (o.box) {
    const b = o.box; const x = round(clamp01(b.x)), y = round(clamp01(b.y));
    out[SHAPE_FIELD[o.shape]] = Object.assign({x, y, w: round(Math.min(1 - x, b.w)), h: round(Math.min(1 - y, b.h))},
                                              o.shape === 'rotatable_bounding_box' ? {theta: b.theta || 0} : {});
  } else {
    const pts = {};
    o.points.forEach((p, i) => { pts[String(i)] = Object.assign({x: round(clamp01(p[0])), y: round(clamp01(p[1]))}, (o.skeleton || [])[i] || {}); });
    out[SHAPE_FIELD[o.shape]] = pts;
    if (o.shape === 'polygon') out.polygons = [[o.points.flatMap((p) => [round(clamp01(p[0])), round(clamp01(p[1]))])]];
  }
  return out;
}
function rowFromModel(base, dataHash, model, me) {
  if (frames.framed(base)) return rowFromFramedModel(base, dataHash, model, me);
  const row = JSON.parse(JSON.stringify(base));
  const now = sdkTime();
  const unit = row.data_units[dataHash];
  const objects = [], objectAnswers = {}, objectActions = {}, classAnswers = {};
  for (const o of model.objects) {
    const def = ONTOLOGY.object(o.featureHash) || {name: '?', color: '#000', attributes: []};
    objects.push(instanceFromModel(o, def, me, now));
    objectAnswers[o.hash] = {classifications: answerList(def.attributes, o.answers, false), objectHash: o.hash};
    if (o.reviews && o.reviews.length) objectAnswers[o.hash].reviews = o.reviews;
    const dyn = answerList(def.attributes, o.answers, true);
    if (dyn.length) objectActions[o.hash] = {actions: dyn.map((a) => Object.assign(a, {dynamic: true, range: [[0, 0]], shouldPropagate: false})), objectHash: o.hash};
  }
  for (const [fh, c] of Object.entries(model.classifications)) {
    const def = ONTOLOGY.classification(fh);
    if (!def) continue;
    const list = answerList(def.attributes, c.answers, null);
    if (!list.length) continue;
    classAnswers[c.hash] = {classifications: list, classificationHash: c.hash, featureHash: fh, spaces: {}, range: [[0, 0]],
                            createdBy: c.createdBy || me, createdAt: c.createdAt || now, lastEditedBy: me, lastEditedAt: now,
                            confidence: 1.0, manualAnnotation: true};
    if (c.reviews && c.reviews.length) classAnswers[c.hash].reviews = c.reviews;
  }
  unit.labels = {objects: objects.concat(model.kept || []), classifications: []};
  row.object_answers = objectAnswers;
  row.object_actions = objectActions;
  row.classification_answers = classAnswers;
  return row;
}

/** After a stale write: the server's row, plus every object and classification only we have (nothing is lost). */
function mergeModels(server, mine) {
  const out = JSON.parse(JSON.stringify(server));
  // On a video one object is an instance per frame: (hash, frame) is what is "only ours".
  const id = (o) => o.hash + '@' + (o.frame === undefined ? '' : o.frame);
  const have = new Set(out.objects.map(id));
  for (const o of mine.objects) if (!have.has(id(o))) out.objects.push(JSON.parse(JSON.stringify(o)));
  for (const [fh, c] of Object.entries(mine.classifications)) if (!out.classifications[fh]) out.classifications[fh] = JSON.parse(JSON.stringify(c));
  for (const [f, byFeature] of Object.entries(mine.frameClassifications || {})) {
    out.frameClassifications = out.frameClassifications || {};
    const theirs = out.frameClassifications[f] = out.frameClassifications[f] || {};
    for (const [fh, c] of Object.entries(byFeature)) if (!theirs[fh]) theirs[fh] = JSON.parse(JSON.stringify(c));
  }
  return out;
}
"""#
}
