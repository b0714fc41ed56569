// The explorer page: shows the world the address's path leads to, and
// takes a step when an enabled event is clicked. Everything is computed by
// the server with the checker's own step function; this script only draws.
'use strict';

const $ = (id) => document.getElementById(id);
let view = null;       // the last state the server sent
let forward = [];      // event numbers undone by Back, last undone last, for Forward
let forwardAt = '';    // the path Forward continues from; any other shown path clears it
let jobTimer = null;   // polling a running check or simulation

// --- small helpers ------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

function currentPath() {
  const m = location.hash.match(/path=([0-9.]*)/);
  return m ? m[1] : '';
}

function pathString(p) { return p.join('.'); }

function go(path) {
  const h = '#path=' + path;
  if (location.hash === h) load(); else location.hash = h;
}

function showError(message) {
  const e = $('error');
  e.textContent = message;
  e.hidden = !message;
}

async function api(method, url, body) {
  const r = await fetch(url, { method, body });
  let data;
  try { data = await r.json(); } catch (_) { data = { error: 'the server sent no JSON (' + r.status + ')' }; }
  if (!r.ok) throw new Error(data.error || ('HTTP ' + r.status));
  return data;
}

// --- drawing ------------------------------------------------------------

function drawInvariants(v) {
  const list = $('invariants');
  list.replaceChildren();
  let broken = [];
  for (const inv of v.invariants) {
    const li = el('li', { class: 'invariant ' + (inv.holds ? 'holds' : 'violated'), 'data-name': inv.name },
      inv.name, ' ', el('span', { class: 'scope' }, '(' + inv.scope + ')'));
    if (!inv.holds) {
      broken.push(inv.why);
      li.append(el('div', { class: 'why' }, inv.why));
    }
    list.append(li);
  }
  if (v.invariants.length === 0) list.append(el('li', { class: 'empty' }, 'the system declares no invariant'));
  const status = $('status');
  status.className = broken.length ? 'violated' : 'holds';
  status.textContent = broken.length
    ? 'VIOLATED at step ' + v.step + ': ' + broken.join('; ')
    : 'Every invariant holds at step ' + v.step + '.';
}

function drawNodes(v) {
  const box = $('nodes');
  box.replaceChildren();
  for (const n of v.world.nodes) {
    const table = el('table');
    for (const f of n.fields) {
      table.append(el('tr', { class: f.changed ? 'changed' : '', 'data-field': f.name },
        el('td', {}, f.name), el('td', {}, f.value)));
    }
    if (n.fields.length === 0) table.append(el('tr', {}, el('td', { class: 'empty' }, 'no fields')));
    const timers = n.timers.length ? 'timers armed: ' + n.timers.join(', ') : 'no timer armed';
    box.append(el('div', { class: 'node' + (n.up ? '' : ' down'), 'data-node': n.name },
      el('h4', {}, n.name + (n.up ? '' : ' (down)') + (n.awaiting ? ' (awaiting output)' : '')),
      table, el('div', { class: 'timers' }, timers)));
  }
  const flight = $('in-flight');
  flight.replaceChildren();
  for (const p of v.world.in_flight) {
    flight.append(el('li', { class: 'packet' }, p.src + ' \u2192 ' + p.dst + ': ' + p.msg));
  }
  if (v.world.in_flight.length === 0) flight.append(el('li', { class: 'empty' }, 'none'));
  $('in-flight-count').textContent = '(' + v.world.in_flight.length + ')';
  const u = v.world.faults_used;
  $('faults-used').textContent = (u.length ? u.join('; ') : 'no fault allowed') +
    (v.world.partitioned ? ' (partitioned now)' : '');
  const trace = $('trace');
  trace.replaceChildren();
  for (const t of v.world.trace) trace.append(el('li', {}, t));
  if (!v.world.recording_trace) {
    trace.append(el('li', { class: 'empty' }, 'not recorded: no invariant reads it (the path shows every input)'));
  } else if (v.world.trace.length === 0) {
    trace.append(el('li', { class: 'empty' }, 'empty'));
  }
}

function previewOf(e) {
  const p = e.preview;
  const box = el('div', { class: 'preview' });
  if (p.error) {
    box.append(el('div', { class: 'error' }, 'the step fails: ' + p.error));
    return box;
  }
  if (p.handler) box.append(el('div', {}, 'runs ' + p.handler));
  for (const c of p.changes) box.append(el('div', {}, c.node + '.' + c.field + ': ' + c.from + ' \u2192 ' + c.to));
  for (const s of p.effects.sends) box.append(el('div', {}, 'sends ' + s));
  for (const o of p.effects.outputs) box.append(el('div', {}, 'emits ' + o));
  for (const t of p.effects.timers) box.append(el('div', {}, t));
  if (box.childElementCount === 0) box.append(el('div', {}, 'changes no field'));
  if (p.violates) box.append(el('div', { class: 'breaks' }, 'then: ' + p.violates));
  return box;
}

function drawEvents(v) {
  const list = $('events');
  list.replaceChildren();
  const base = v.path;
  for (const e of v.enabled) {
    const button = el('button', {
      class: 'event ' + e.kind,
      'data-index': e.index,
      'data-event': JSON.stringify(e.event),
      title: 'take this step',
    }, e.label);
    button.addEventListener('click', () => {
      forward = [];
      go(pathString(base.concat([e.index])));
    });
    list.append(el('li', {}, button, previewOf(e)));
  }
  if (v.enabled.length === 0) list.append(el('li', { class: 'empty' }, 'no event is enabled: the run is over'));
  $('enabled-count').textContent = v.enabled_total > v.enabled.length
    ? '(' + v.enabled.length + ' of ' + v.enabled_total + ' shown)'
    : '(' + v.enabled.length + ')';
}

function drawPath(v) {
  const steps = $('steps');
  steps.replaceChildren();
  const first = el('li', { class: v.step === 0 ? 'current' : '' },
    el('a', { href: '#path=' }, 'initial world'));
  if (v.initial_violation) first.classList.add('violated');
  steps.append(first);
  v.steps.forEach((s, k) => {
    const li = el('li', { class: (k + 1 === v.step ? 'current' : '') + (s.violation ? ' violated' : '') },
      el('a', { href: '#path=' + pathString(v.path.slice(0, k + 1)) }, s.label),
      s.handler ? el('span', { class: 'handler' }, ' (' + s.handler + ')') : null);
    if (s.violation) li.title = s.violation;
    steps.append(li);
  });
  $('chart').innerHTML = v.chart;  // SVG drawn and escaped by the server
}

function draw(v) {
  view = v;
  if (pathString(v.path) !== forwardAt) forward = [];
  $('step').textContent = v.step;
  drawInvariants(v);
  drawNodes(v);
  drawEvents(v);
  drawPath(v);
  const link = '#path=' + pathString(v.path);
  $('permalink').href = link;
  $('back').disabled = v.step === 0;
  $('forward').disabled = forward.length === 0;
  document.body.dataset.step = String(v.step);
  document.body.dataset.violated = v.invariants.some((i) => !i.holds) ? '1' : '0';
}

// --- loading and navigation ---------------------------------------------

let loadSeq = 0;
async function load() {
  const seq = ++loadSeq;
  document.body.dataset.loading = '1';
  try {
    const v = await api('GET', '/api/state?path=' + encodeURIComponent(currentPath()));
    if (seq !== loadSeq) return;
    showError('');
    draw(v);
  } catch (e) {
    if (seq !== loadSeq) return;
    showError('Cannot show this path: ' + e.message);
  } finally {
    if (seq === loadSeq) document.body.dataset.loading = '0';
  }
}

$('back').addEventListener('click', () => {
  if (!view || view.step === 0) return;
  forward.push(view.path[view.path.length - 1]);
  forwardAt = pathString(view.path.slice(0, -1));
  go(forwardAt);
});
$('forward').addEventListener('click', () => {
  if (!view || !forward.length) return;
  forwardAt = pathString(view.path.concat([forward.pop()]));
  go(forwardAt);
});
$('restart').addEventListener('click', () => { forward = []; go(''); });
document.addEventListener('keydown', (e) => {
  if (e.altKey && e.key === 'ArrowLeft') { e.preventDefault(); $('back').click(); }
  if (e.altKey && e.key === 'ArrowRight') { e.preventDefault(); $('forward').click(); }
});
window.addEventListener('hashchange', load);

// --- traces ---------------------------------------------------------------

$('trace-file').addEventListener('change', async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  try {
    const text = await file.text();
    const r = await api('POST', '/api/trace', text);
    forward = [];
    showError('');
    go(pathString(r.path));
  } catch (e) {
    showError(file.name + ': ' + e.message);
  }
  ev.target.value = '';
});

// --- checks and simulations from here --------------------------------------

function drawJob(s) {
  const box = $('job');
  if (!s.kind) { box.hidden = true; return; }
  box.hidden = false;
  const what = (s.kind === 'check' ? 'Check' : 'Simulation') + ' from step ' + s.from_step;
  box.className = s.result && s.result.verdict === 'violation' ? 'violation' : '';
  box.dataset.running = s.running ? '1' : '0';
  box.dataset.verdict = s.result ? s.result.verdict : '';
  if (s.running) {
    box.textContent = what + ': ' + s.progress + ' \u2026';
  } else if (s.result) {
    box.textContent = what + ': ' + s.result.summary + '\n' + s.result.stats +
      (s.result.path ? '\n(showing the counterexample: Back returns along it)' : '');
  }
  $('run-check').disabled = s.running;
  $('run-simulate').disabled = s.running;
  $('stop-job').disabled = !s.running || s.kind !== 'simulate';
}

async function pollJob() {
  try {
    const s = await api('GET', '/api/job');
    drawJob(s);
    if (s.running) {
      jobTimer = setTimeout(pollJob, 300);
      return;
    }
    jobTimer = null;
    if (s.result && s.result.path) {
      forward = [];
      go(pathString(s.result.path));
    }
  } catch (e) {
    showError('Lost the job: ' + e.message);
    jobTimer = null;
  }
}

async function startJob(kind, params) {
  if (!view) return;
  const q = new URLSearchParams(params);
  q.set('path', pathString(view.path));
  try {
    const s = await api('POST', '/api/' + kind + '?' + q.toString());
    showError('');
    drawJob(s);
    if (!jobTimer) pollJob();
  } catch (e) {
    showError(e.message);
  }
}

$('run-check').addEventListener('click', () => startJob('check', {
  max_states: $('max-states').value, depth: $('check-depth').value,
}));
$('run-simulate').addEventListener('click', () => startJob('simulate', {
  runs: $('sim-runs').value, depth: $('sim-depth').value,
}));
$('stop-job').addEventListener('click', () => api('POST', '/api/job/stop').catch((e) => showError(e.message)));

// --- start ------------------------------------------------------------------

(async () => {
  try {
    const a = await api('GET', '/api/about');
    $('system').textContent = a.system;
    $('setup').textContent = a.program + ' \u2014 nodes ' + a.nodes + ', faults: ' + a.faults +
      ', workload: ' + a.workload;
    document.title = a.system + ' \u2014 Verdict explorer';
  } catch (e) {
    showError(e.message);
  }
  const s = await api('GET', '/api/job').catch(() => null);
  if (s && s.kind) { drawJob(s); if (s.running) pollJob(); }
  load();
})();
