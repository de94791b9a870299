// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// `/label/`: the person's projects, the stages they may work on and their counts.
    static let projects = #"""
// /label/: the signed-in person's projects, the stages they may work on and the task counts.
(async function () {
  const list = $('projects');
  const status = $('projects-status');
  try {
    let items = [], cursor = null;
    do {
      const page = await api('GET', '/v1/projects?limit=100' + (cursor ? '&cursor=' + enc(cursor) : ''));
      items = items.concat(page.json.items || []); cursor = page.json.nextCursor;
    } while (cursor && items.length < 1000);
    if (!items.length) { status.textContent = 'You collaborate on no projects yet.'; return; }
    status.textContent = items.length + (items.length === 1 ? ' project' : ' projects');
    for (const p of items) {
      const [me, stages] = await Promise.all([api('GET', `/v1/projects/${p.id}/me`), api('GET', `/v1/projects/${p.id}/stages`)]);
      const perms = new Set(me.json.permissions || []);
      const li = el('li', {class: 'project', 'data-project': p.id});
      li.append(el('h2', {}, el('a', {href: '/label/' + p.id, text: p.title})));
      const ul = el('ul', {class: 'stages'});
      for (const s of stages.json.stages || []) {
        const may = (s.stageType === 'ANNOTATION' && perms.has('annotate')) || (s.stageType === 'REVIEW' && perms.has('review'));
        if (!may) continue;
        const by = s.byStatus || {};
        const open = (by.NEW || 0) + (by.REOPENED || 0) + (by.RELEASED || 0) + (by.SKIPPED || 0);
        const detail = Object.keys(by).sort().map((k) => `${k} ${by[k]}`).join(', ');
        ul.append(el('li', {'data-stage': s.uuid, 'data-open': open},
          el('a', {href: `/label/${p.id}?stage=${enc(s.uuid)}`, text: `${s.title} (${s.stageType === 'REVIEW' ? 'review' : 'annotate'})`}),
          ` ${open} to do, ${s.taskCount} in all` + (detail ? ` — ${detail}` : '')));
      }
      if (!ul.children.length) ul.append(el('li', {text: 'No stage you may work on (your role: ' + ((me.json.roles || []).join(', ') || 'none') + ').'}));
      li.append(ul);
      list.append(li);
    }
  } catch (e) {
    status.textContent = 'Could not load your projects: ' + e.message;
    status.setAttribute('role', 'alert');
  }
})();
"""#
}
