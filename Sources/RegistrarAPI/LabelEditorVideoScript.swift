// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// Video frames: the frame scrubber, the `<video>` element seeked to a frame, copy to the next
    /// frame, per-frame dynamic answers and frame classifications, and the frame-keyed label row both ways.
    static let video = #"""
// Videos (Encord data_type "video": our videos and image sequences) are labelled frame by frame.
// The model keeps one instance per object per frame ({hash, frame, …}): the same hash on several
// frames is one object (a track), as the row's objectHash is (annotation-spec §2). Static answers
// are the object's (shared by its instances), dynamic ones each frame's; frame classifications
// (those without level "global") are kept per frame. The canvas shows the current frame's
// instances over the <video> element seeked to the middle of that frame ((f + 0.5) / fps).
const frames = {
  active: false, count: 1, fps: 0, current: 0, seekToken: 0,
  /** Whether a row is frame-keyed and shown from a video (the other frame-keyed types are not drawn yet). */
  framed(row) { return !!row && row.data_type === 'video'; },
  /** Whether the canvas shows this model object now (images: always). */
  shows(o) { return o.frame === undefined || o.frame === frames.current; },
  /** Fields a new object gets: its frame, on a video. */
  tag() { return this.active ? {frame: this.current} : {}; },
  init() {
    this.video = $('video'); this.holder = $('media-video');
    $('frame').addEventListener('input', () => this.go(Number($('frame').value)));
    $('frame-prev').addEventListener('click', () => this.go(this.current - 1));
    $('frame-next').addEventListener('click', () => this.go(this.current + 1));
    $('frame-copy').addEventListener('click', () => this.copyNext());
  },
  /** Opens a video unit: the element's source, the frame count from the recorded duration and fps, frame 0 shown. */
  async open(unit) {
    this.active = true; this.current = 0;
    this.fps = Number(unit.data_fps) || 0;
    const w = unit.width || 1, h = unit.height || 1;
    this.holder.setAttribute('width', w); this.holder.setAttribute('height', h);
    this.holder.removeAttribute('display');
    await new Promise((resolve) => {
      const done = () => { this.video.removeEventListener('loadedmetadata', done); this.video.removeEventListener('error', done); resolve(); };
      this.video.addEventListener('loadedmetadata', done); this.video.addEventListener('error', done);
      this.video.src = unit.data_link || '';
      this.video.load();
    });
    if (!this.fps) { this.fps = 25; app.say('This video has no recorded frame rate; frames are counted at 25 fps.', true); }
    const duration = Number(unit.data_duration) || (Number.isFinite(this.video.duration) ? this.video.duration : 0);
    this.count = Math.max(1, Math.round(duration * this.fps));
    if (this.video.error) app.say('The browser cannot play this video (' + (this.video.error.message || 'error ' + this.video.error.code) + ').', true);
    $('frames').hidden = false;
    $('frame').max = String(this.count - 1);
    await this.go(0);
  },
  close() {
    this.active = false; this.current = 0; this.count = 1;
    $('frames').hidden = true; this.holder.setAttribute('display', 'none');
    this.video.removeAttribute('src'); this.video.load();
    delete document.body.dataset.frame;
  },
  /** Shows frame f (clamped): the scrubber, the label, the video seeked, the frame's labels and answers. */
  async go(f) {
    if (!this.active) return;
    f = Math.min(this.count - 1, Math.max(0, Math.round(f)));
    this.current = f;
    $('frame').value = String(f);
    $('frame-label').textContent = `Frame ${f} of ${this.count - 1}` + (this.fps ? ` · ${(f / this.fps).toFixed(3)} s` : '');
    document.body.dataset.frame = String(f); document.body.dataset.frameReady = 'false';
    if (canvas.selected && !app.object(canvas.selected)) canvas.selected = null;
    canvas.cancelDraft();
    canvas.render(); app.renderObjects(); app.renderAttributes(); app.renderClassifications();
    const token = ++this.seekToken;
    await new Promise((resolve) => {
      const v = this.video;
      if (!v.src || v.error) { resolve(); return; }
      const done = () => { v.removeEventListener('seeked', done); resolve(); };
      v.addEventListener('seeked', done);
      v.currentTime = (f + 0.5) / this.fps;
      setTimeout(done, 3000);   // a stream that never seeks must not hang the editor
    });
    if (token === this.seekToken) document.body.dataset.frameReady = 'true';
  },
  /** Copies the selected object to the next frame (replacing its instance there) and shows that frame. */
  copyNext() {
    const o = app.object(canvas.selected);
    if (!this.active || !app.editable()) return;
    if (!o) { app.say('Select a label to copy it to the next frame.'); return; }
    if (this.current + 1 >= this.count) { app.say('This is the last frame.'); return; }
    const before = app.snapshot(), next = this.current + 1;
    app.model.objects = app.model.objects.filter((x) => !(x.hash === o.hash && x.frame === next));
    app.model.objects.push(Object.assign(JSON.parse(JSON.stringify(o)), {frame: next}));
    this.go(next);
    canvas.selected = o.hash;
    app.changed(before);
    app.say(`Copied to frame ${next}.`);
  },
  /** A static answer belongs to the object: every frame's instance gets it. */
  spread(target, attr, value) {
    if (target.frame === undefined || attr.dynamic || !target.hash) return;
    for (const x of app.model.objects) {
      if (x === target || x.hash !== target.hash) continue;
      x.answers[attr.featureNodeHash] = value;
      if (attr.type === 'radio') app.clearNested(x.answers, attr, value);
    }
  },
  /** Where a classification's instance lives: per frame on a video (unless its level is global), else the unit's. */
  classificationStore(def, model) {
    if (!this.active || def.level === 'global') return model.classifications;
    model.frameClassifications = model.frameClassifications || {};
    return (model.frameClassifications[String(this.current)] = model.frameClassifications[String(this.current)] || {});
  },
  /** Frame shortcuts: `,`/`.` anywhere, ←/→ off the image (on it they move the crosshair), C copies to the next frame. */
  key(e, onCanvas) {
    if (!this.active) return false;
    if (e.key === ',' || (e.key === 'ArrowLeft' && !onCanvas)) { e.preventDefault(); this.go(this.current - 1); return true; }
    if (e.key === '.' || (e.key === 'ArrowRight' && !onCanvas)) { e.preventDefault(); this.go(this.current + 1); return true; }
    if (e.key === 'c' || e.key === 'C') { e.preventDefault(); this.copyNext(); return true; }
    return false;
  },
};

/** Sorted frame numbers → Encord ranges [[start, end], …] of consecutive frames. */
function frameRanges(list) {
  const fs = [...new Set(list)].sort((a, b) => a - b), out = [];
  for (const f of fs) { const last = out[out.length - 1]; if (last && last[1] === f - 1) last[1] = f; else out.push([f, f]); }
  return out;
}

/** A frame-keyed row → the model: instances tagged with their frame, dynamic answers spread over their ranges. */
function modelFromFramedRow(row, dataHash) {
  const unit = row.data_units[dataHash] || {};
  const model = {objects: [], classifications: {}, frameClassifications: {}, kept: [], keptFrames: {}};
  for (const [key, fr] of Object.entries(unit.labels || {})) {
    for (const o of (fr && fr.objects) || []) {
      const obj = modelObject(o);
      if (!obj) { (model.keptFrames[key] = model.keptFrames[key] || []).push(o); continue; }
      obj.frame = Number(key);
      const oa = (row.object_answers || {})[o.objectHash];
      if (oa) readAnswers(oa.classifications, obj.answers);
      model.objects.push(obj);
    }
  }
  for (const [h, acts] of Object.entries(row.object_actions || {})) {
    for (const a of acts.actions || []) {
      for (const [s, e] of a.range || []) for (const obj of model.objects) if (obj.hash === h && obj.frame >= s && obj.frame <= e) readAnswers([a], obj.answers);
    }
  }
  for (const [h, c] of Object.entries(row.classification_answers || {})) {
    const def = ONTOLOGY.classification(c.featureHash);
    const entry = () => ({hash: h, createdAt: c.createdAt, createdBy: c.createdBy, answers: readAnswers(c.classifications, {})});
    if (!def || def.level === 'global') { model.classifications[c.featureHash] = entry(); continue; }
    for (const [s, e] of c.range || []) {
      for (let f = s; f <= e; f++) (model.frameClassifications[String(f)] = model.frameClassifications[String(f)] || {})[c.featureHash] = entry();
    }
  }
  return model;
}

/** The model → a frame-keyed row: objects under their frames, one object_answers entry per object,
 *  dynamic answers as object_actions with the ranges of frames sharing an answer, frame
 *  classifications as one instance per answer with the ranges of its frames. */
function rowFromFramedModel(base, dataHash, model, me) {
  const row = JSON.parse(JSON.stringify(base));
  const now = sdkTime();
  const unit = row.data_units[dataHash];
  const labels = {}, objectAnswers = {}, objectActions = {}, classAnswers = {};
  const frame = (k) => (labels[k] = labels[k] || {objects: [], classifications: []});
  const tracks = new Map();
  for (const o of model.objects.slice().sort((a, b) => a.frame - b.frame)) {
    const def = ONTOLOGY.object(o.featureHash) || {name: '?', color: '#000', attributes: []};
    frame(String(o.frame)).objects.push(instanceFromModel(o, def, me, now));
    if (!tracks.has(o.hash)) tracks.set(o.hash, []);
    tracks.get(o.hash).push(o);
  }
  for (const [k, list] of Object.entries(model.keptFrames || {})) frame(k).objects.push(...list);
  for (const [h, list] of tracks) {
    const def = ONTOLOGY.object(list[0].featureHash) || {attributes: []};
    objectAnswers[h] = {classifications: answerList(def.attributes, list[0].answers, false), objectHash: h};
    const groups = new Map();
    for (const o of list) {
      for (const item of answerList(def.attributes, o.answers, true)) {
        const key = item.featureHash + ' ' + JSON.stringify(item.answers);
        if (!groups.has(key)) groups.set(key, {item, frames: []});
        groups.get(key).frames.push(o.frame);
      }
    }
    if (groups.size) objectActions[h] = {objectHash: h, actions: [...groups.values()].map((g) =>
      Object.assign(g.item, {dynamic: true, range: frameRanges(g.frames), shouldPropagate: false}))};
  }
  const instance = (h, fh, c, list, range) => ({classifications: list, classificationHash: h, featureHash: fh, spaces: {}, range,
    createdBy: c.createdBy || me, createdAt: c.createdAt || now, lastEditedBy: me, lastEditedAt: now, confidence: 1.0, manualAnnotation: true});
  for (const [fh, c] of Object.entries(model.classifications)) {
    const def = ONTOLOGY.classification(fh);
    if (!def) continue;
    const list = answerList(def.attributes, c.answers, null);
    if (list.length) classAnswers[c.hash] = instance(c.hash, fh, c, list, [[0, Math.max(0, frames.count - 1)]]);
  }
  // Frame classifications: frames with the same answers share one instance (and its hash).
  const groups = new Map();
  for (const [k, byFeature] of Object.entries(model.frameClassifications || {})) {
    for (const [fh, c] of Object.entries(byFeature)) {
      const def = ONTOLOGY.classification(fh);
      if (!def) continue;
      const list = answerList(def.attributes, c.answers, null);
      if (!list.length) continue;
      const key = fh + ' ' + JSON.stringify(list.map((a) => [a.featureHash, a.answers]));
      if (!groups.has(key)) groups.set(key, {fh, c, list, frames: []});
      groups.get(key).frames.push(Number(k));
    }
  }
  for (const g of groups.values()) {
    let h = g.c.hash;
    if (classAnswers[h]) h = shortHash();   // one stored instance whose frames now answer differently
    classAnswers[h] = instance(h, g.fh, g.c, g.list, frameRanges(g.frames));
  }
  unit.labels = labels;
  row.object_answers = objectAnswers;
  row.object_actions = objectActions;
  row.classification_answers = classAnswers;
  return row;
}
"""#
}
