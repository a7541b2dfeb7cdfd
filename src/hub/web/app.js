// The hub's dashboard: plain JavaScript, no build step. Everything a node sent (names,
// binaries, arguments, pod names, reasons) is attacker-controlled, so it only ever reaches
// the page as text (textContent), stripped of control and bidirectional characters; no
// markup is built from strings. The token stays in this tab (sessionStorage).
'use strict';

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NOISY = 10;
const REFRESH_MS = 10_000;

/** Hostile strings as plain, capped text. */
function safe(v, max = 300) {
  const s = String(v ?? '').replace(UNSAFE, ' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'title') e.title = safe(v, 2000);
    else if (k.startsWith('data-')) e.setAttribute(k, safe(v, 200));
    else if (k === 'onclick') e.addEventListener('click', v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(safe(c)));
  return e;
}

const $ = (sel) => document.querySelector(sel);
const state = { token: sessionStorage.getItem('argos-hub-token') ?? '', selected: null, plot: null, timer: null };

function ago(iso) {
  if (!iso) return '—';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function say(text, ok = false) {
  const m = $('#message');
  m.textContent = safe(text, 500);
  m.className = ok ? 'ok' : '';
  m.hidden = !text;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${state.token}`, 'content-type': 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    $('main').hidden = true;
    throw new Error('the hub refused this token: enter ARGOS_HUB_TOKEN (or the read-only token)');
  }
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function renderNodes(nodes) {
  const count = (f) => nodes.filter(f).length;
  const summary = $('#summary');
  summary.replaceChildren(
    el('span', { class: 'pill' }, `${nodes.length} nodes`),
    el('span', { class: 'pill online' }, `${count((n) => n.status === 'online')} online`),
    el('span', { class: 'pill offline' }, `${count((n) => n.status === 'offline')} offline`),
    el('span', { class: 'pill learning' }, `${count((n) => n.state === 'learning' || n.state === 'training')} learning`),
    el('span', { class: 'pill detecting' }, `${count((n) => n.state === 'detecting')} detecting`),
    el('span', { class: 'pill noisy' }, `${count((n) => n.alerts24h >= NOISY)} noisy`),
  );
  const rows = nodes.map((n) => {
    const action = (label, body) =>
      el('button', { onclick: (ev) => { ev.stopPropagation(); void sendCommand(n.node, body); } }, label);
    return el(
      'tr',
      { 'data-node': n.node },
      el('td', {}, n.node),
      el('td', {}, el('span', { class: `pill ${n.status}` }, n.status), ' ', el('span', { class: 'muted' }, n.since ? ago(n.since) : '')),
      el('td', {}, n.state ? el('span', { class: `pill ${n.state}` }, n.state) : el('span', { class: 'muted' }, '—')),
      el('td', {}, n.model ? `${n.model.name} v${n.model.version}` : '—'),
      el('td', { class: n.alerts24h >= NOISY ? 'noisy' : n.alerts24h === 0 ? 'quiet' : '' }, String(n.alerts24h)),
      el('td', { title: n.lastSeen }, ago(n.lastSeen)),
      el('td', {}, action('relearn', { command: 'relearn' }), ' ', action('status', { command: 'status' })),
    );
  });
  $('#nodes tbody').replaceChildren(...rows);
}

function renderTimeline(t) {
  const xs = [];
  const anomaly = [];
  const fresh = [];
  const byT = new Map(t.buckets.map((b) => [b.t, b]));
  const first = Math.floor(t.since / t.bucket) * t.bucket;
  for (let x = first; x <= Date.now(); x += t.bucket) {
    const b = byT.get(x);
    xs.push(x / 1000);
    anomaly.push(b ? b.anomaly : 0);
    fresh.push(b ? b.new_program : 0);
  }
  const data = [xs, anomaly, fresh];
  const box = $('#plot');
  if (typeof uPlot !== 'function') {
    box.textContent = 'the plot library did not load';
    return;
  }
  if (state.plot) {
    state.plot.setData(data);
    return;
  }
  const bars = uPlot.paths.bars({ size: [0.8, 40] });
  state.plot = new uPlot(
    {
      width: Math.max(300, box.clientWidth || 480),
      height: 220,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { label: 'alerts', size: 50 }],
      series: [{}, { label: 'anomaly', stroke: '#b42318', fill: 'rgba(180,35,24,.35)', paths: bars }, { label: 'new program', stroke: '#a15c00', fill: 'rgba(161,92,0,.35)', paths: bars }],
    },
    data,
    box,
  );
}

function filterQuery() {
  const f = new FormData($('#filters'));
  const q = new URLSearchParams({ limit: '200' });
  for (const k of ['node', 'program', 'kind', 'since']) {
    const v = String(f.get(k) ?? '').trim();
    if (v) q.set(k, v);
  }
  return q;
}

function renderAlerts(alerts) {
  const rows = alerts.map((a) =>
    el(
      'tr',
      { class: `clickable${state.selected?.id === a.id ? ' selected' : ''}`, 'data-id': a.id, onclick: () => showAlert(a) },
      el('td', { title: a.time }, new Date(a.time).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })),
      el('td', {}, a.node),
      el('td', {}, a.kind === 'new_program' ? 'new program' : 'anomaly'),
      el('td', { title: a.program }, safe(a.program, 120)),
      el('td', {}, a.kind === 'anomaly' ? `${a.score.toFixed(3)} / ${a.threshold.toFixed(3)}` : '—'),
      el('td', {}, String(a.count)),
      el('td', {}, String(a.priority)),
    ),
  );
  $('#alert-list tbody').replaceChildren(...rows);
}

function field(name, value) {
  return [el('dt', {}, name), el('dd', {}, safe(value, 4000))];
}

function showAlert(a) {
  state.selected = a;
  $('#detail').hidden = false;
  $('#detail-id').textContent = safe(a.id, 128);
  const p = a.process ?? {};
  const fields = [
    ...field('node', a.node),
    ...field('time', a.time),
    ...field('kind', a.kind),
    ...field('program', a.program),
    ...field('process', `pid ${p.pid} ${p.binary}`),
    ...field('arguments', p.arguments || '—'),
    ...field('exec id', p.exec_id),
  ];
  if (p.parent) fields.push(...field('parent', `pid ${p.parent.pid} ${p.parent.binary}`));
  if (a.pod) fields.push(...field('pod', `${a.pod.namespace}/${a.pod.name}${a.pod.container ? ` (${a.pod.container})` : ''}${a.pod.image ? ` ${a.pod.image}` : ''}`));
  fields.push(...field('model', a.model), ...field('priority', String(a.priority)), ...field('count', String(a.count)));
  if (a.kind === 'new_program') fields.push(...field('reason', a.reason), ...field('writable place', a.writable ? 'yes' : 'no'));
  $('#detail-fields').replaceChildren(...fields);
  const score = $('#detail-score');
  if (a.kind === 'anomaly') {
    const top = Math.max(a.score, a.threshold) * 1.25 || 1;
    const fill = el('div', { class: 'fill' });
    fill.style.width = `${Math.min(100, (a.score / top) * 100)}%`;
    const mark = el('div', { class: 'mark', title: `threshold ${a.threshold}` });
    mark.style.left = `${Math.min(100, (a.threshold / top) * 100)}%`;
    score.replaceChildren(el('div', { class: 'bar-label' }, `score ${a.score.toFixed(3)} against threshold ${a.threshold.toFixed(3)} (×${(a.score / a.threshold).toFixed(2)})`), el('div', { class: 'bar' }, fill, mark));
  } else {
    score.replaceChildren();
  }
  const why = Array.isArray(a.why) ? a.why : [];
  $('#detail-why').replaceChildren(...(why.length ? why.map((w) => el('li', {}, `${safe(w.calls, 600)}  (${Number(w.surprisal).toFixed(2)} nats)`)) : [el('li', { class: 'muted' }, a.kind === 'anomaly' ? 'not given' : 'a new program: no window')]));
  for (const tr of document.querySelectorAll('#alert-list tbody tr')) tr.classList.toggle('selected', tr.dataset.id === a.id);
  void loadCommands(a.node);
}

async function loadCommands(node) {
  try {
    const { commands } = await api(`/api/nodes/${encodeURIComponent(node)}/commands`);
    $('#detail-commands').replaceChildren(
      ...commands.slice(0, 10).map((c) => {
        const what = c.command ? `${c.command.command}${c.command.alert ? ` alert ${c.command.alert}` : ''}${c.command.program ? ` program ${c.command.program}` : ''}` : 'result of another tool\'s command';
        const result = c.result ? `${c.result.ok ? 'done' : 'refused'}${c.result.message ? `: ${c.result.message}` : ''}${c.result.error ? `: ${c.result.error}` : ''}` : 'waiting for the node';
        return el('li', {}, `${new Date(c.created).toLocaleTimeString()} ${what} — ${result}`);
      }),
    );
  } catch (e) {
    say(e.message);
  }
}

async function sendCommand(node, body) {
  try {
    const { command } = await api(`/api/nodes/${encodeURIComponent(node)}/commands`, { method: 'POST', body: JSON.stringify(body) });
    say(`sent ${command.command} to ${node} (command ${command.id})`, true);
    if (state.selected?.node === node) void loadCommands(node);
  } catch (e) {
    say(`${body.command} for ${node} was not sent: ${e.message}`);
  }
}

async function refresh() {
  if (!state.token) {
    say('Enter the hub token to see the fleet.');
    return;
  }
  try {
    const [nodes, timeline, alerts] = await Promise.all([api('/api/nodes'), api('/api/timeline?since=24h&bucket=1h'), api(`/api/alerts?${filterQuery()}`)]);
    $('main').hidden = false;
    renderNodes(nodes.nodes);
    renderTimeline(timeline);
    renderAlerts(alerts.alerts);
    if ($('#message').className !== 'ok') say('');
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    say(e.message);
  }
}

function init() {
  $('#token').value = state.token;
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.token = $('#token').value.trim();
    sessionStorage.setItem('argos-hub-token', state.token);
    void refresh();
  });
  $('#filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void refresh();
  });
  $('#allow-alert').addEventListener('click', () => state.selected && void sendCommand(state.selected.node, { command: 'allow', alert: state.selected.id }));
  $('#allow-program').addEventListener('click', () => state.selected && void sendCommand(state.selected.node, { command: 'allow', program: state.selected.program }));
  void refresh();
  state.timer = setInterval(() => void refresh(), REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', init);
