// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// Per-label review: approve / reject each label (a comment on reject), the annotator's view of the rejections, RESOLVED on a fix.
    static let review = #"""
// Per-label review (docs/editor.md, docs/labels.md "Per-label review"). Each object and
// classification of the model may carry `reviews`, the row's list for that label
// (object_answers.<hash>.reviews / classification_answers.<hash>.reviews), oldest first: the
// last entry is the label's state. A reviewer approves or rejects the selected label (a
// comment is required on reject); approving the task approves every label not rejected. An
// annotator sees the rejected labels and their comments; changing a rejected label (or
// "Mark as fixed") adds RESOLVED, and submitting waits until no label is still rejected.
// Every review is a model change like any other: undoable, autosaved with If-Match.
const review = {
  last(t) { const r = t && t.reviews; return r && r.length ? r[r.length - 1] : null; },
  status(t) { const l = this.last(t); return l ? l.status : null; },
  entry(status, comment) {
    const e = {reviewUuid: (crypto.randomUUID ? crypto.randomUUID() : shortHash() + shortHash()), status, reviewedBy: app.me.email, reviewedAt: sdkTime()};
    if (comment) e.comment = comment;
    return e;
  },
  add(t, status, comment) { t.reviews = (t.reviews || []).concat([this.entry(status, comment)]); },
  /** One review step on a label (undoable, saved like any change). */
  judge(t, status, comment) {
    const before = app.snapshot();
    this.add(t, status, comment);
    app.changed(before);
    app.say({APPROVED: 'Label approved.', REJECTED: 'Label rejected.', RESOLVED: 'Marked as fixed.'}[status] || '');
  },
  /** Every label of the model as [target, name]: objects "Road 2", classifications by their question. */
  labels() {
    const out = app.model.objects.map((o, i) => [o, `${(ONTOLOGY.object(o.featureHash) || {name: '?'}).name} ${i + 1}`]);
    for (const [fh, c] of Object.entries(app.model.classifications)) {
      const def = ONTOLOGY.classification(fh);
      if (def && Object.keys(c.answers || {}).length) out.push([c, (def.attributes && def.attributes[0] && def.attributes[0].name) || 'Classification']);
    }
    return out;
  },
  rejected() { return this.labels().filter(([t]) => this.status(t) === 'REJECTED'); },
  /** The short mark after a label's name in the list. */
  badge(t) { return {APPROVED: ' ✓ approved', REJECTED: ' ✗ rejected', RESOLVED: ' ↻ fixed'}[this.status(t)] || ''; },
  /** The review section under a label's attributes (and under each classification). */
  panel(box, t, what) {
    const last = this.last(t), st = last && last.status;
    const sec = el('div', {class: 'review', 'data-review': st || 'NONE'});
    if (st === 'REJECTED') sec.append(el('p', {class: 'review-note', text: `Rejected by ${last.reviewedBy || 'a reviewer'}: ${last.comment || ''}`}));
    else if (st === 'APPROVED') sec.append(el('p', {class: 'muted', text: `Approved by ${last.reviewedBy || 'a reviewer'}.`}));
    else if (st === 'RESOLVED') {
      const why = (t.reviews || []).filter((r) => r.status === 'REJECTED').pop();
      sec.append(el('p', {class: 'muted', text: `Fixed by ${last.reviewedBy || 'the annotator'} after: ${why ? why.comment : 'a rejection'}`}));
    }
    if (app.task && app.reviewing()) {
      sec.append(el('button', {type: 'button', class: 'approve-label', text: `Approve ${what}${what === 'label' ? ' (A)' : ''}`, disabled: st === 'APPROVED', onclick: () => this.judge(t, 'APPROVED')}));
      const area = el('textarea', {class: 'reject-label-comment', rows: '2', maxlength: '2000', 'aria-label': `What is wrong with this ${what}?`, placeholder: 'What is wrong? (required to reject)'});
      const err = el('p', {class: 'alert', 'aria-live': 'assertive'});
      sec.append(area, el('button', {type: 'button', class: 'reject-label', text: `Reject ${what}`, onclick: () => {
        const c = area.value.trim();
        if (!c) { err.textContent = 'Say what to fix: the annotator sees this comment.'; area.focus(); return; }
        this.judge(t, 'REJECTED', c);
      }}), err);
    } else if (app.task && st === 'REJECTED') {
      sec.append(el('button', {type: 'button', class: 'resolve-label', text: 'Mark as fixed', onclick: () => this.judge(t, 'RESOLVED')}));
    }
    box.append(sec);
  },
  /** The annotator's list of rejected labels above the canvas (each selects its label, in the select tool). */
  showRejected() {
    const list = $('rejected-labels'); list.innerHTML = '';
    const items = app.reviewing() ? [] : this.rejected();
    list.hidden = !items.length;
    if (!items.length) return;
    list.append(el('li', {class: 'muted', text: `${items.length} label(s) rejected: fix them (or mark them fixed), then submit.`}));
    for (const [t, name] of items) {
      const last = this.last(t);
      list.append(el('li', {}, el('button', {type: 'button', 'data-rejected': t.hash, text: `${name}: ${last.comment || ''}`,
        onclick: () => { if (app.object(t.hash)) { canvas.setTool('select'); canvas.select(t.hash); } else $('classifications').scrollIntoView(); }})));
    }
  },
  /** After a change by the annotator: a rejected label that now differs gets RESOLVED. */
  resolveEdited(beforeText) {
    if (!app.task || app.reviewing()) return;
    const pending = this.rejected();
    if (!pending.length) return;
    const before = JSON.parse(beforeText);
    const strip = (t) => JSON.stringify(Object.assign({}, t, {reviews: undefined}));
    for (const [t] of pending) {
      const old = before.objects.find((o) => o.hash === t.hash)
        || Object.values(before.classifications || {}).find((c) => c.hash === t.hash);
      if (!old || strip(old) !== strip(t)) this.add(t, 'RESOLVED');
    }
  },
  /** Before a task action. APPROVE approves every label not rejected; SUBMIT waits for rejected labels. */
  beforeAct(action) {
    if (action === 'SUBMIT') {
      const left = this.rejected();
      if (left.length) {
        app.say(`Submit refused: ${left.length} label(s) still rejected (${left.map(([, n]) => n).join(', ')}). Fix them or mark them fixed.`, true);
        document.body.dataset.refused = 'SUBMIT';
        return false;
      }
    }
    if (action === 'APPROVE') {
      const todo = this.labels().filter(([t]) => !['APPROVED', 'REJECTED'].includes(this.status(t)));
      if (todo.length) { const before = app.snapshot(); for (const [t] of todo) this.add(t, 'APPROVED'); app.changed(before); }
    }
    return true;
  },
  init() {
    // Rejecting the task: the comment starts as the list of rejected labels and their comments.
    $('reject').addEventListener('click', () => {
      const items = this.rejected();
      if (items.length && !$('reject-comment').value) $('reject-comment').value = items.map(([t, n]) => `${n}: ${this.last(t).comment}`).join('\n');
    });
    document.addEventListener('keydown', (e) => {
      const t = e.target, typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
      if (typing || e.ctrlKey || e.metaKey || e.altKey || !app.task || !app.reviewing()) return;
      const o = app.object(canvas.selected);
      if (!o) return;
      if (e.key === 'a' || e.key === 'A') { e.preventDefault(); this.judge(o, 'APPROVED'); }
      if (e.key === 'r' || e.key === 'R') { e.preventDefault(); const area = document.querySelector('#attributes .reject-label-comment'); if (area) area.focus(); }
    });
  },
};
"""#
}
