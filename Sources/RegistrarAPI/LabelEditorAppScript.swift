// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// The editor's controller: the task queue, panels, undo/redo, shortcuts and saving (If-Match, retries, local draft).
    static let app = #"""
// The editor's controller: the task queue (take next, submit, skip, release, approve, reject
// with a comment), the panels (classes, objects, attributes, classifications), undo/redo,
// keyboard shortcuts, and saving (autosave with If-Match, retries, a local draft until the
// server has accepted it, the stale-write message with reload-and-merge).
let ONTOLOGY = new Ontology(null);
const app = {
  pid: document.body.dataset.project,
  me: null, perms: new Set(), stages: [], stage: null, task: null, row: null, etag: null, dataHash: null,
  model: {objects: [], classifications: {}, kept: []},
  undoStack: [], redoStack: [], keyboardCursor: false,
  version: 0, savedVersion: 0, saving: null, saveTimer: null, retryDelay: 1000, stale: false, skippedHere: new Set(),

  async start() {
    canvas.init(); frames.init();
    this.bindControls(); review.init();
    try {
      const [project, me, wf] = await Promise.all([api('GET', `/v1/projects/${this.pid}`), api('GET', `/v1/projects/${this.pid}/me`),
                                                   api('GET', `/v1/projects/${this.pid}/stages`)]);
      this.project = project.json; this.me = me.json; this.perms = new Set(me.json.permissions || []);
      $('project-title').textContent = project.json.title;
      const oid = project.json.ontologyId || (project.json.ontology && project.json.ontology.id);
      if (oid) { const o = await api('GET', `/v1/ontologies/${oid}`); ONTOLOGY = new Ontology(o.json.structure); }
      this.stages = (wf.json.stages || []).filter((s) => (s.stageType === 'ANNOTATION' && this.perms.has('annotate')) || (s.stageType === 'REVIEW' && this.perms.has('review')));
      const sel = $('stage');
      for (const s of this.stages) sel.append(el('option', {value: s.uuid, text: `${s.title} (${s.stageType === 'REVIEW' ? 'review' : 'annotate'}) — ${s.taskCount} tasks`}));
      const wanted = new URLSearchParams(location.search).get('stage');
      if (wanted && this.stages.some((s) => s.uuid === wanted)) sel.value = wanted;
      this.stage = this.stages.find((s) => s.uuid === sel.value) || null;
      if (!this.stages.length) this.say('You may not annotate or review in this project (roles: ' + ((me.json.roles || []).join(', ') || 'none') + ').');
      if (!this.me.email) this.say('This key is a service key, not a person: sign in with a user key to take tasks.');
      this.renderClasses(); this.renderClassifications(); this.refreshButtons();
      this.setSave('idle', 'No task open');
      // Coming back to a stage: the task this person already holds there opens at once.
      if (this.stage && this.me.email) await this.resume();
      document.body.dataset.ready = 'true';
    } catch (e) { this.say('Could not open the project: ' + e.message, true); }
  },

  // MARK: Queue
  reviewing() { return this.stage && this.stage.stageType === 'REVIEW'; },
  editable() { return !!this.task; },
  async resume() {
    try {
      const mine = await api('GET', `/v1/projects/${this.pid}/workflow/stages/${this.stage.uuid}/tasks?limit=1&statuses=ASSIGNED&userEmails=${enc(this.me.email)}`);
      if (mine.json.results.length) await this.open(mine.json.results[0]);
    } catch (e) { this.say('Could not look for your tasks: ' + e.message, true); }
  },
  async takeNext() {
    if (!this.stage || !this.me.email) return;
    if (!(await this.flush())) { this.say('Your changes are not saved yet; the next task waits until they are.', true); return; }
    const base = `/v1/projects/${this.pid}/workflow/stages/${this.stage.uuid}`;
    this.say('Looking for the next task…');
    try {
      const mine = await api('GET', `${base}/tasks?limit=1&statuses=ASSIGNED&userEmails=${enc(this.me.email)}`);
      if (mine.json.results.length) return this.open(mine.json.results[0]);
      const rounds = this.reviewing() ? ['NEW,REOPENED,RELEASED'] : ['NEW,REOPENED,RELEASED', 'SKIPPED'];
      for (const statuses of rounds) {
        const page = await api('GET', `${base}/tasks?limit=50&statuses=${statuses}`);
        for (const t of page.json.results) {
          if (this.skippedHere.has(t.uuid)) continue;
          const r = await api('POST', `${base}/actions`, [{taskUuid: t.uuid, action: 'ASSIGN', assignee: this.me.email}]);
          if (r.json.results[0].ok) return this.open(t);
        }
      }
      this.close(); this.say('No more tasks for you at this stage.');
    } catch (e) { this.say('Could not take a task: ' + e.message, true); }
  },
  async open(task) {
    const began = performance.now();
    this.task = task; this.dataHash = task.dataHash; this.stale = false; this.hideBanner();
    const r = await api('GET', `/v1/projects/${this.pid}/label-rows/${task.dataHash}`);
    this.row = r.json; this.etag = r.etag;
    const unit = this.row.data_units[task.dataHash];
    if (this.row.data_type !== 'image' && !frames.framed(this.row)) {
      this.say(`This task's data is ${this.row.data_type}: this version of the editor labels images and videos only (docs/editor.md).`, true);
    }
    if (frames.active) frames.close();
    let model = modelFromRow(this.row, task.dataHash);
    const draft = this.readDraft();
    if (draft) {
      // A draft the server never accepted (a closed tab, a network cut): merged back, then saved.
      model = mergeModels(draft.etag === this.etag ? draft.model : model, draft.model);
      this.say('Restored your unsaved changes from this browser.');
    }
    this.model = model; this.undoStack = []; this.redoStack = []; this.version = 0; this.savedVersion = draft ? -1 : 0;
    $('task-info').textContent = `${task.dataTitle || task.dataHash} · ${this.stage.title} · ${task.status}`;
    document.body.dataset.task = task.uuid; document.body.dataset.dataHash = task.dataHash;
    const t0 = performance.now();
    if (frames.framed(this.row)) {
      canvas.load('', unit.width, unit.height);
      await frames.open(unit);   // the <video> at frame 0, the scrubber
    } else {
      await new Promise((resolve) => {
        const img = new Image();
        img.onload = img.onerror = () => resolve();
        img.src = unit.data_link;
      });
      canvas.load(unit.data_link, unit.width, unit.height);
    }
    document.body.dataset.mediaMs = (performance.now() - t0).toFixed(1);
    canvas.select(null);
    this.renderObjects(); this.renderClassifications(); this.refreshButtons();
    if (draft) this.schedule(0); else this.setSave('saved', 'Saved');
    if (task.status === 'REOPENED' || task.status === 'ASSIGNED') this.showRejection(task.uuid);
    $('canvas').focus({preventScroll: true});
    // Milliseconds from navigation start to this task drawn (the browser test prints it).
    document.body.dataset.openedMs = performance.now().toFixed(1);
    // Milliseconds this task took to open: the row read, the media fetched, everything drawn.
    document.body.dataset.openMs = (performance.now() - began).toFixed(1);
  },
  close() {
    this.task = null; this.row = null; this.model = {objects: [], classifications: {}, kept: []};
    frames.close(); canvas.load('', 1, 1); canvas.select(null); this.renderObjects(); this.renderClassifications(); this.refreshButtons();
    $('task-info').textContent = ''; delete document.body.dataset.task;
    this.setSave('idle', 'No task open');
  },
  async showRejection(taskUuid) {
    try {
      const h = await api('GET', `/v1/projects/${this.pid}/tasks/${taskUuid}/history`);
      const rejects = (h.json.events || []).filter((e) => e.action === 'REJECT');
      const last = rejects[rejects.length - 1];
      if (last && h.json.status !== 'COMPLETED') {
        const box = $('rejection');
        box.hidden = false;
        box.textContent = `Rejected by ${last.actor || 'a reviewer'}: ${last.comment || '(no comment)'}`;
      }
    } catch (e) { /* the history is a hint; the task works without it */ }
  },
  async act(action, extra) {
    if (!this.task) return;
    if (!review.beforeAct(action)) return;
    if (!(await this.flush())) { this.say('Not done: your changes are not saved yet (see the save state).', true); return; }
    const base = `/v1/projects/${this.pid}/workflow/stages/${this.stage.uuid}`;
    try {
      const r = await api('POST', `${base}/actions`, [Object.assign({taskUuid: this.task.uuid, action}, extra || {})]);
      const res = r.json.results[0];
      if (!res.ok) { this.say(`${action} refused: ${res.error.message}`, true); document.body.dataset.refused = action; return; }
      const title = this.task.dataTitle || this.task.dataHash;
      this.clearDraft();
      $('rejection').hidden = true;
      if (action === 'SKIP') this.skippedHere.add(this.task.uuid);
      if (action === 'RELEASE') { const acted = this.task.uuid; this.close(); this.say(`Released ${title}.`); document.body.dataset.acted = acted; return; }
      this.say({SUBMIT: 'Submitted', SKIP: 'Skipped', APPROVE: 'Approved', REJECT: 'Rejected'}[action] + ` ${title}.`);
      document.body.dataset.lastAction = action;
      const acted = this.task.uuid;
      this.task = null;
      await this.takeNext();
      document.body.dataset.acted = acted;
    } catch (e) { this.say(`${action} failed: ${e.message}`, true); }
  },

  // MARK: Model changes, undo/redo
  object(hash) { return hash ? this.model.objects.find((o) => o.hash === hash && frames.shows(o)) : null; },
  snapshot() { return JSON.stringify(this.model); },
  changed(before) {
    review.resolveEdited(before);
    this.undoStack.push(before); if (this.undoStack.length > 200) this.undoStack.shift();
    this.redoStack = []; this.version++;
    canvas.render(); this.renderObjects(); this.renderAttributes(); this.renderClassifications(); this.schedule();
  },
  restore(text) {
    this.model = JSON.parse(text); this.version++;
    if (!this.object(canvas.selected)) canvas.selected = null;
    canvas.render(); this.renderObjects(); this.renderAttributes(); this.renderClassifications(); this.schedule();
  },
  undo() { if (this.undoStack.length) { this.redoStack.push(this.snapshot()); this.restore(this.undoStack.pop()); this.say('Undone.'); } },
  redo() { if (this.redoStack.length) { this.undoStack.push(this.snapshot()); this.restore(this.redoStack.pop()); this.say('Redone.'); } },
  addObject(featureHash, shape, geometry) {
    if (!featureHash) { this.say('Pick an object class first (keys 1–9).'); return; }
    const before = this.snapshot();
    const o = Object.assign({hash: shortHash(), featureHash, shape, answers: {}, createdAt: sdkTime(), createdBy: this.me.email}, geometry, frames.tag());
    this.model.objects.push(o);
    canvas.selected = o.hash;
    this.changed(before);
    this.say(`${(ONTOLOGY.object(featureHash) || {}).name} added.`);
  },
  deleteSelected() {
    const o = this.object(canvas.selected); if (!o) return;
    const before = this.snapshot();
    this.model.objects = this.model.objects.filter((x) => x !== o); canvas.selected = null;
    this.changed(before); this.selectionChanged(); this.say('Deleted.');
  },
  answer(target, attr, value) {
    const before = this.snapshot();
    target.answers[attr.featureNodeHash] = value;
    if (attr.type === 'radio') this.clearNested(target.answers, attr, value);
    frames.spread(target, attr, value);
    this.changed(before);
  },
  /** Answers under the options not chosen are dropped (the row keeps nested answers only under the chosen option). */
  clearNested(answers, attr, chosen) {
    const drop = (list) => { for (const a of list || []) { delete answers[a.featureNodeHash]; for (const o of a.options || []) drop(o.options); } };
    for (const o of attr.options || []) if (o.featureNodeHash !== chosen) drop(o.options);
  },
  classification(def) {
    const store = frames.classificationStore(def, this.model);   // per frame on a video
    let c = store[def.featureNodeHash];
    if (!c) { c = {hash: shortHash(), answers: {}, createdAt: sdkTime(), createdBy: this.me.email}; store[def.featureNodeHash] = c; }
    return c;
  },

  // MARK: Saving
  draftKey() { return `registrar-draft:${this.pid}:${this.dataHash}`; },
  readDraft() { try { return JSON.parse(localStorage.getItem(this.draftKey()) || 'null'); } catch (e) { return null; } },
  clearDraft() { try { localStorage.removeItem(this.draftKey()); } catch (e) { /* storage off */ } },
  setSave(state, text) { const s = $('save-state'); s.dataset.state = state; s.textContent = text; },
  schedule(delay) {
    if (!this.task) return;
    try { localStorage.setItem(this.draftKey(), JSON.stringify({etag: this.etag, model: this.model, at: Date.now()})); } catch (e) { /* full or off */ }
    if (this.stale) { this.setSave('stale', 'Not saved: someone else saved this row'); return; }
    this.setSave('unsaved', 'Unsaved changes');
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), delay === undefined ? 800 : delay);
  },
  async save() {
    if (!this.task || this.stale) return false;
    if (this.saving) return this.saving;
    if (this.savedVersion === this.version) return true;
    const sending = this.version;
    const body = rowFromModel(this.row, this.dataHash, this.model, this.me.email);
    this.setSave('saving', 'Saving…');
    this.saving = (async () => {
      try {
        const r = await api('PUT', `/v1/projects/${this.pid}/label-rows/${this.dataHash}`, body, {'If-Match': this.etag});
        this.etag = r.etag; this.row = r.json; this.savedVersion = sending; this.retryDelay = 1000;
        if (this.version === sending) { this.clearDraft(); this.setSave('saved', 'Saved'); }
        else this.schedule();
        return true;
      } catch (e) {
        if (e.status === 412) {
          this.stale = true;
          this.setSave('stale', 'Not saved: someone else saved this row');
          this.banner('Someone else saved this label row while you were editing, so your last changes were not written over theirs. ' +
                      'Your changes are kept in this browser. Reload to see their version with your additions merged in.', true);
          return false;
        }
        if (e.status === 422 || e.status === 403 || e.status === 404 || e.status === 428) {
          const detail = e.body && e.body.error && e.body.error.details && e.body.error.details.errors;
          this.setSave('error', 'Not saved: ' + e.message + (detail && detail.length ? ` (${detail[0].path}: ${detail[0].message})` : ''));
          return false;
        }
        // A network failure, 429 or 5xx: the draft is kept; try again with a growing pause.
        const wait = this.retryDelay; this.retryDelay = Math.min(30000, this.retryDelay * 2);
        this.setSave('offline', `Not saved yet (${e.status ? 'HTTP ' + e.status : 'network unreachable'}); retrying in ${Math.round(wait / 1000)} s`);
        clearTimeout(this.saveTimer); this.saveTimer = setTimeout(() => this.save(), wait);
        return false;
      } finally { this.saving = null; }
    })();
    return this.saving;
  },
  /** Saves now; true once the server holds the current model. */
  async flush() {
    if (!this.task) return true;
    clearTimeout(this.saveTimer);
    for (let i = 0; i < 3; i++) {
      if (this.saving) await this.saving;
      if (this.savedVersion === this.version) return true;
      if (!(await this.save())) return false;
    }
    return this.savedVersion === this.version;
  },
  async reloadAndMerge() {
    const r = await api('GET', `/v1/projects/${this.pid}/label-rows/${this.dataHash}`);
    const mine = this.model;
    this.row = r.json; this.etag = r.etag; this.stale = false; this.hideBanner();
    this.model = mergeModels(modelFromRow(r.json, this.dataHash), mine);
    this.undoStack = []; this.redoStack = [];
    this.version++; canvas.render(); this.renderObjects(); this.renderAttributes(); this.renderClassifications();
    this.schedule(0);
    this.say('Reloaded their version; your additions are merged in and being saved.');
  },

  // MARK: Panels
  renderClasses() {
    const list = $('classes'); list.innerHTML = '';
    const usable = ONTOLOGY.objects.filter((o) => SUPPORTED_SHAPES.includes(o.shape));
    list.append(el('li', {}, el('button', {type: 'button', 'data-tool': 'select', 'aria-pressed': 'true', text: 'Select / edit (V)', onclick: () => canvas.setTool('select')})));
    usable.forEach((o, i) => {
      list.append(el('li', {}, el('button', {type: 'button', 'data-class': o.featureNodeHash, 'data-shape': o.shape, 'aria-pressed': 'false',
        onclick: () => canvas.setTool(o.shape, o.featureNodeHash)},
        el('span', {class: 'swatch', style: `background:${o.color}`, 'aria-hidden': 'true'}), `${i < 9 ? (i + 1) + ' · ' : ''}${o.name} `, el('small', {text: o.shape.replace(/_/g, ' ')}))));
    });
    const other = ONTOLOGY.objects.filter((o) => !SUPPORTED_SHAPES.includes(o.shape));
    if (other.length) list.append(el('li', {class: 'muted', text: 'Not drawable here yet: ' + other.map((o) => `${o.name} (${o.shape})`).join(', ')}));
  },
  toolChanged() {
    for (const b of document.querySelectorAll('#classes button')) {
      const on = canvas.tool === 'select' ? b.dataset.tool === 'select' : b.dataset.class === canvas.classHash;
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    const def = ONTOLOGY.object(canvas.classHash);
    $('tool-state').textContent = canvas.tool === 'select' ? 'Select: click a label to edit it, drag to move, Delete removes it.'
      : `Drawing ${def ? def.name : ''} (${canvas.tool.replace(/_/g, ' ')}). ` + {bounding_box: 'Drag, or Space at two corners.', rotatable_bounding_box: 'Drag, or Space at two corners; then turn it by its round handle or [ ].', skeleton: 'Click or Space per keypoint, in the template\'s order.', polygon: 'Click or Space per point; Enter or double-click closes.',
         polyline: 'Click or Space per point; Enter or double-click ends.', point: 'Click or Space.'}[canvas.tool];
    shapes.prompt();   // a skeleton names the keypoint to place next
  },
  renderObjects() {
    const list = $('objects'); list.innerHTML = '';
    this.model.objects.filter(frames.shows).forEach((o, i) => {
      const def = ONTOLOGY.object(o.featureHash) || {name: '?', color: '#000'};
      list.append(el('li', {}, el('button', {type: 'button', 'data-hash': o.hash, 'aria-pressed': o.hash === canvas.selected ? 'true' : 'false',
        onclick: () => canvas.select(o.hash)}, el('span', {class: 'swatch', style: `background:${def.color}`, 'aria-hidden': 'true'}),
        `${def.name} ${i + 1} `, el('small', {text: o.shape.replace(/_/g, ' ') + review.badge(o), 'data-review': review.status(o) || null}))));
    });
    review.showRejected();
    $('object-count').textContent = String(this.model.objects.filter(frames.shows).length);
  },
  selectionChanged() {
    // Only the pressed state changes: rebuilding the list (500 buttons) on every click was most of a select's time.
    for (const b of $('objects').querySelectorAll('button[aria-pressed="true"]')) b.setAttribute('aria-pressed', 'false');
    const b = canvas.selected ? $('objects').querySelector(`button[data-hash="${CSS.escape(canvas.selected)}"]`) : null;
    if (b) b.setAttribute('aria-pressed', 'true');
    this.renderAttributes();
  },
  renderAttributes() {
    const box = $('attributes'); box.innerHTML = '';
    const o = this.object(canvas.selected);
    if (!o) { box.append(el('p', {class: 'muted', text: 'Select a label to answer its attributes.'})); return; }
    const def = ONTOLOGY.object(o.featureHash);
    box.append(el('h3', {text: `${def ? def.name : '?'} — attributes`}));
    if (!def || !(def.attributes || []).length) { box.append(el('p', {class: 'muted', text: 'This class has no attributes.'})); }
    else this.attributeForm(box, def.attributes, o, 'o-' + o.hash);
    review.panel(box, o, 'label');
    shapes.panel(box, o);   // a skeleton's keypoint visibilities
    box.append(el('button', {type: 'button', class: 'danger', text: 'Delete label (Del)', onclick: () => this.deleteSelected()}));
  },
  /** Form controls for attributes: radio (with the chosen option's nested attributes), checklist, text, numeric. */
  attributeForm(parent, attrs, target, prefix) {
    for (const a of attrs || []) {
      if (a.archived) continue;
      const id = `${prefix}-${a.featureNodeHash}`.replace(/[^A-Za-z0-9_-]/g, '_');
      const value = target.answers[a.featureNodeHash];
      const label = a.name + (a.required ? ' (required)' : '') + (a.dynamic ? ' (frame)' : '');
      if (a.type === 'radio' || a.type === 'checklist') {
        const fs = el('fieldset', {'data-attr': a.featureNodeHash}, el('legend', {text: label}));
        for (const opt of a.options || []) {
          if (opt.archived) continue;
          const oid = `${id}-${opt.featureNodeHash}`.replace(/[^A-Za-z0-9_-]/g, '_');
          const checked = a.type === 'radio' ? value === opt.featureNodeHash : Array.isArray(value) && value.includes(opt.featureNodeHash);
          const input = el('input', {type: a.type === 'radio' ? 'radio' : 'checkbox', id: oid, name: id, value: opt.featureNodeHash, checked,
                                     'data-option': opt.featureNodeHash});
          input.addEventListener('change', () => {
            if (a.type === 'radio') this.answer(target, a, opt.featureNodeHash);
            else {
              const now = new Set(Array.isArray(target.answers[a.featureNodeHash]) ? target.answers[a.featureNodeHash] : []);
              input.checked ? now.add(opt.featureNodeHash) : now.delete(opt.featureNodeHash);
              this.answer(target, a, (a.options || []).map((x) => x.featureNodeHash).filter((h) => now.has(h)));
            }
          });
          fs.append(el('div', {class: 'opt'}, input, el('label', {for: oid, text: opt.label})));
          if (a.type === 'radio' && checked && (opt.options || []).length) {
            const nested = el('div', {class: 'nested'});
            this.attributeForm(nested, opt.options, target, oid);
            fs.append(nested);
          }
        }
        parent.append(fs);
      } else {
        const input = el('input', {id, type: a.type === 'numeric' ? 'number' : 'text', step: a.type === 'numeric' ? 'any' : null,
                                   value: value === undefined || value === null ? '' : String(value), 'data-attr': a.featureNodeHash});
        input.addEventListener('change', () => {
          if (a.type === 'numeric') {
            if (input.value === '') { this.answer(target, a, null); return; }
            const n = Number(input.value);
            if (!Number.isFinite(n)) { this.say(`${a.name} must be a number.`, true); return; }
            this.answer(target, a, n);
          } else this.answer(target, a, input.value);
        });
        parent.append(el('div', {class: 'field'}, el('label', {for: id, text: label}), input));
      }
    }
  },
  renderClassifications() {
    const box = $('classifications'); box.innerHTML = '';
    if (!ONTOLOGY.classifications.length) { box.append(el('p', {class: 'muted', text: 'The ontology has no classifications.'})); return; }
    if (!this.task) { box.append(el('p', {class: 'muted', text: 'Open a task to answer them.'})); return; }
    for (const def of ONTOLOGY.classifications) {
      const wrapper = el('div', {class: 'classification', 'data-classification': def.featureNodeHash});
      if (frames.active) wrapper.append(el('p', {class: 'muted', text: def.level === 'global' ? 'Whole video' : `Frame ${frames.current}`}));
      // An instance with no answers is left out of the row (rowFromModel), so making it here is harmless.
      this.attributeForm(wrapper, def.attributes, this.classification(def), 'c-' + def.featureNodeHash);
      if (Object.keys(this.classification(def).answers).length) review.panel(wrapper, this.classification(def), 'classification');
      box.append(wrapper);
    }
  },
  refreshButtons() {
    const open = !!this.task, review = this.reviewing();
    $('start').disabled = !this.stage || !this.me || !this.me.email;
    $('start').textContent = review ? 'Start reviewing' : 'Start labelling';
    for (const [id, show] of [['submit', !review], ['skip', !review], ['approve', review], ['reject', review]]) { $(id).hidden = !show; $(id).disabled = !open; }
    $('release').disabled = !open;
    document.body.dataset.mode = review ? 'review' : 'annotate';
  },

  // MARK: Messages
  say(text, alert) { const m = $('message'); m.textContent = text; m.dataset.alert = alert ? 'true' : 'false'; },
  banner(text, withReload) {
    const b = $('banner'); b.hidden = false; $('banner-text').textContent = text; $('reload').hidden = !withReload;
    if (withReload) $('reload').focus();
  },
  hideBanner() { $('banner').hidden = true; },

  // MARK: Controls and shortcuts
  bindControls() {
    $('stage').addEventListener('change', async () => {
      if (!(await this.flush())) { this.say('Save first: your changes are not saved yet.', true); return; }
      this.stage = this.stages.find((s) => s.uuid === $('stage').value) || null; this.close(); this.refreshButtons();
    });
    $('start').addEventListener('click', () => this.takeNext());
    $('submit').addEventListener('click', () => this.act('SUBMIT'));
    $('skip').addEventListener('click', () => this.act('SKIP'));
    $('release').addEventListener('click', () => this.act('RELEASE'));
    $('approve').addEventListener('click', () => this.act('APPROVE'));
    $('reject').addEventListener('click', () => { $('reject-dialog').showModal(); $('reject-comment').focus(); });
    $('reject-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const comment = $('reject-comment').value.trim();
      if (!comment) { $('reject-error').textContent = 'Say what to fix: the annotator sees this comment.'; return; }
      $('reject-dialog').close(); $('reject-comment').value = ''; $('reject-error').textContent = '';
      this.act('REJECT', {comment});
    });
    $('reject-cancel').addEventListener('click', () => $('reject-dialog').close());
    $('reload').addEventListener('click', () => this.reloadAndMerge().catch((e) => this.say('Reload failed: ' + e.message, true)));
    $('save-now').addEventListener('click', () => this.flush());
    $('undo').addEventListener('click', () => this.undo());
    $('redo').addEventListener('click', () => this.redo());
    $('zoom-in').addEventListener('click', () => canvas.zoom(1.25));
    $('zoom-out').addEventListener('click', () => canvas.zoom(0.8));
    $('zoom-fit').addEventListener('click', () => canvas.fit());
    window.addEventListener('beforeunload', (e) => { if (this.task && this.savedVersion !== this.version) { e.preventDefault(); e.returnValue = ''; } });
    document.addEventListener('keydown', (e) => this.key(e));
  },
  key(e) {
    const t = e.target, typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
    const mod = e.ctrlKey || e.metaKey;
    if (mod && (e.key === 'z' || e.key === 'Z') && !typing) { e.preventDefault(); e.shiftKey ? this.redo() : this.undo(); return; }
    if (mod && (e.key === 'y' || e.key === 'Y') && !typing) { e.preventDefault(); this.redo(); return; }
    if (mod && (e.key === 's' || e.key === 'S')) { e.preventDefault(); this.flush(); return; }
    if (mod && e.key === 'Enter') { e.preventDefault(); this.act(this.reviewing() ? 'APPROVE' : 'SUBMIT'); return; }
    if (typing || mod) return;
    const onCanvas = t === $('canvas');
    if (frames.key(e, onCanvas) || shapes.key(e)) return;
    const arrows = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
    if (arrows[e.key] && onCanvas) {
      e.preventDefault();
      const step = e.shiftKey ? 1 : e.altKey ? 100 : 10;
      if (!this.keyboardCursor) { this.keyboardCursor = true; }
      canvas.moveCursor(arrows[e.key][0] * step, arrows[e.key][1] * step);
      return;
    }
    if ((e.key === ' ' || e.key === 'Spacebar') && onCanvas) {
      e.preventDefault(); this.keyboardCursor = true; canvas.renderCursor();
      canvas.place({x: canvas.cursor.x, y: canvas.cursor.y}, false); return;
    }
    if (e.key === 'Enter' && onCanvas) { e.preventDefault(); canvas.finish(); return; }
    if (e.key === 'Escape') { if (canvas.draft) canvas.cancelDraft(); else canvas.setTool('select'); return; }
    if ((e.key === 'Delete' || e.key === 'Backspace') && canvas.selected) { e.preventDefault(); this.deleteSelected(); return; }
    if (e.key === 'v' || e.key === 'V') { canvas.setTool('select'); return; }
    if (e.key === '+' || e.key === '=') { canvas.zoom(1.25); return; }
    if (e.key === '-') { canvas.zoom(0.8); return; }
    if (e.key === '0') { canvas.fit(); return; }
    if (e.key === 'n' || e.key === 'N') {
      const objs = this.model.objects.filter(frames.shows); if (!objs.length) return;
      const i = objs.findIndex((o) => o.hash === canvas.selected);
      canvas.select(objs[(i + (e.shiftKey ? objs.length - 1 : 1) + (i < 0 && e.shiftKey ? 1 : 0)) % objs.length].hash); return;
    }
    if (/^[1-9]$/.test(e.key)) {
      const usable = ONTOLOGY.objects.filter((o) => SUPPORTED_SHAPES.includes(o.shape));
      const o = usable[Number(e.key) - 1];
      if (o) canvas.setTool(o.shape, o.featureNodeHash);
    }
  },
};
app.start();
"""#
}
