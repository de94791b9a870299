// Plain JavaScript served inline under the page's CSP nonce: no build step, no npm, no CDN.
extension LabelEditorScripts {
    /// The /v1 client and DOM helpers both label pages share.
    static let common = #"""
// Shared by /label/ and the editor: the /v1 client (the cookie authenticates; writes are
// same-origin fetches, which the API checks) and small helpers.
'use strict';
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
class APIError extends Error {
  constructor(status, body, etag) {
    super((body && body.error && body.error.message) || ('HTTP ' + status));
    this.status = status; this.body = body; this.etag = etag;
    this.code = body && body.error && body.error.code;
  }
}
/** One /v1 call: JSON in and out; throws APIError for an HTTP error, TypeError on a network failure. */
async function api(method, path, body, headers) {
  const h = Object.assign({'Accept': 'application/json'}, headers || {});
  const init = {method, headers: h, credentials: 'same-origin', cache: 'no-store'};
  if (body !== undefined) { h['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (!r.ok) throw new APIError(r.status, json, r.headers.get('ETag'));
  return {json, etag: r.headers.get('ETag'), status: r.status};
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c])); }
"""#
}
