// storyscore's page. Served from this machine; nothing is fetched from the internet (CSP: default-src 'self').
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const base = (p) => p.split(/[\\/]/).pop();
const fmt = (x) => (x >= 0 ? "+" : "") + Number(x).toFixed(2);
const clock = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
const chips = (moods) => moods.map((m) => `<span class="chip">${esc(m)}</span>`).join("");
const TOKEN = document.querySelector('meta[name="storyscore-token"]').content;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every state-changing request carries the session token (the server refuses it otherwise).
async function api(url, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = Object.assign({}, options.headers || {}, method === "GET" ? {} : {"X-Storyscore-Token": TOKEN});
  const response = await fetch(url, Object.assign({}, options, {headers}));
  const body = await response.json().catch(() => ({error: `${response.status} ${response.statusText}`}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// --- the library: names relative to the music folder (the table and the map show the same thing) ---
let library = null;
const byPath = new Map();
async function getLibrary() {
  if (!library) {
    library = (await api("/api/library")).tracks;
    library.forEach((t) => byPath.set(t.path, t));
  }
  return library;
}
const nameOf = (path) => (byPath.get(path) || {name: base(path)}).name;

function play(trackId, path) {
  $("player").classList.add("on");
  $("player-name").textContent = nameOf(path);
  const audio = $("player-audio");
  audio.src = `/audio/${trackId}`;
  audio.play().catch(() => {});
}

function showTab(tab) {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("on", x.dataset.tab === tab));
  document.querySelectorAll("section").forEach((s) => s.classList.toggle("on", s.id === tab));
  if (tab === "library") renderLibrary();
  if (tab !== "read") stopReading();
}
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

let info = null;
async function loadInfo() {
  try {
    info = await api("/api/info");
    $("info").textContent = `${info.tracks} tracks · space ${info.space}`;
    $("info").title = info.library;
  } catch (e) { $("info").textContent = e.message; }
  getLibrary().catch(() => {});
}

// --- match ---
function trackCard(r, rank) {
  return `<div class="card">
    <div class="top"><span class="muted">${rank}.</span><span class="name" title="${esc(r.path)}">${esc(nameOf(r.path))}</span>${r.album ? ` <span class="muted">· ${esc(r.album)}</span>` : ""}
      <span class="score">score ${Number(r.score).toFixed(3)} · V ${fmt(r.valence)} A ${fmt(r.arousal)}</span></div>
    <div>${chips(r.moods)}</div>
    <div class="why">${esc(r.why)}</div>
    <audio controls preload="none" src="/audio/${r.track_id}"></audio></div>`;
}

async function runMatch() {
  const text = $("match-text").value;
  $("match-error").textContent = "";
  $("match-go").disabled = true;
  $("match-status").textContent = info && !info.ready
    ? "Finding music… the first match loads the text model (about 10 s); later ones take a second."
    : "Finding music…";
  try {
    const out = await api("/api/match", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text, top: Number($("match-top").value) || 10})});
    if (info) info.ready = true;
    const p = out.passage;
    $("match-out").innerHTML = `<div class="reading">The passage reads ${chips(p.moods)} (valence ${fmt(p.valence)}, arousal ${fmt(p.arousal)}); space ${esc(out.space)}.</div>`
      + out.results.map((r, k) => trackCard(r, k + 1)).join("");
  } catch (e) { $("match-error").textContent = e.message; }
  $("match-status").textContent = "";
  $("match-go").disabled = false;
}
$("match-go").addEventListener("click", runMatch);
$("match-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runMatch(); });

// --- plan: a chosen file is shown as a chip; typing clears it, so typed text is never silently ignored ---
function setFileChip() {
  const file = $("plan-file").files[0];
  $("plan-file-chip").hidden = !file;
  $("plan-file-name").textContent = file ? `planning the file ${file.name}` : "";
}
$("plan-file").addEventListener("change", setFileChip);
$("plan-file-clear").addEventListener("click", () => { $("plan-file").value = ""; setFileChip(); });
$("plan-text").addEventListener("input", () => { if ($("plan-file").files[0]) { $("plan-file").value = ""; setFileChip(); } });

const STAGES = {queued: "waiting for the engine", starting: "starting", reading: "reading the story",
  emotion: "reading the emotion of each passage", tracks: "scoring the library for each scene", mixing: "mixing"};

// Runs a job, showing its progress; the server cancels it if this page stops polling (closed tab).
let currentJob = null;
async function followJob(job, onProgress) {
  currentJob = job.job_id;
  try {
    for (;;) {
      if (job.state === "done") return job.result;
      if (job.state === "failed" || job.state === "cancelled") throw new Error(job.error || job.state);
      onProgress(job);
      await sleep(400);
      job = await api(`/api/jobs/${job.job_id}`);
    }
  } finally { currentJob = null; }
}

function planProgress(job) {
  const bar = $("plan-progress");
  bar.hidden = false;
  if (job.total > 0) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
  $("plan-stage").textContent = `${STAGES[job.stage] || STAGES[job.state] || job.stage}…`
    + (job.total > 1 ? ` ${Math.round(job.done)} of ${Math.round(job.total)}` : "");
}

async function runJob(url, options) {
  $("plan-error").textContent = "";
  $("plan-go").disabled = true;
  $("plan-cancel").hidden = false;
  try {
    const job = await api(url, Object.assign({method: "POST"}, options));
    const plan = await followJob(job, planProgress);
    await getLibrary().catch(() => {});
    renderPlan(plan);
  } catch (e) { $("plan-error").textContent = e.message; }
  $("plan-progress").hidden = true;
  $("plan-stage").textContent = "";
  $("plan-go").disabled = false;
  $("plan-cancel").hidden = true;
}

async function runPlan() {
  const file = $("plan-file").files[0];
  const body = file ? await file.arrayBuffer() : new TextEncoder().encode($("plan-text").value);
  const params = new URLSearchParams({name: file ? file.name : "story.txt", wpm: $("plan-wpm").value || "150"});
  if ($("plan-scenes").value) params.set("scenes", $("plan-scenes").value);
  await runJob(`/api/jobs/plan?${params}`, {body, headers: {"Content-Type": "application/octet-stream"}});
}
$("plan-go").addEventListener("click", runPlan);
$("plan-cancel").addEventListener("click", () => { if (currentJob) api(`/api/jobs/${currentJob}`, {method: "DELETE"}).catch(() => {}); });

function excerpt(text, n = 220) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > n ? `${flat.slice(0, n).trimEnd()}…` : flat;  // "…" only when something was cut
}

// The arc: valence and arousal per scene as steps over reading time, with a y-axis (-1…+1) and scene
// boundaries; a one-scene plan is a flat step plus its point, never an empty box.
function arcSvg(scenes) {
  const w = 1000, h = 200, left = 44, right = 16, top = 22, bottom = 26;
  const end = Math.max(1, ...scenes.map((s) => s.start_seconds + s.reading_seconds));
  const x = (t) => left + (w - left - right) * t / end, y = (v) => top + (h - top - bottom) * (1 - v) / 2;
  const axis = [-1, -0.5, 0, 0.5, 1].map((v) => `<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 0 ? "#c9ced8" : "#eef0f4"}"/>
    <text x="${left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#5b6475">${v > 0 ? "+" : ""}${v}</text>`).join("");
  const ticks = scenes.map((s) => `<line x1="${x(s.start_seconds)}" x2="${x(s.start_seconds)}" y1="${top}" y2="${h - bottom}" stroke="#e3e6ec"/>`).join("");
  const steps = (key, colour) => scenes.map((s) => {
    const x0 = x(s.start_seconds), x1 = x(s.start_seconds + s.reading_seconds), yy = y(s[key]);
    return `<line class="arc-${key}" x1="${x0.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="${colour}" stroke-width="3"/>
      <circle cx="${((x0 + x1) / 2).toFixed(1)}" cy="${yy.toFixed(1)}" r="4" fill="${colour}"><title>scene ${s.index + 1}: ${key} ${fmt(s[key])}</title></circle>`;
  }).join("");
  return `<svg id="arc" viewBox="0 0 ${w} ${h}" width="100%">${axis}${ticks}${steps("valence", "#3056d3")}${steps("arousal", "#d36b30")}
    <line x1="${left}" x2="${left}" y1="${top}" y2="${h - bottom}" stroke="#5b6475"/>
    <text x="${left}" y="14" font-size="12" fill="#3056d3">valence</text><text x="${left + 70}" y="14" font-size="12" fill="#d36b30">arousal</text>
    <text x="${w - right}" y="${h - 6}" font-size="11" text-anchor="end" fill="#5b6475">${clock(end)} of reading</text></svg>`;
}

function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], {type}));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

let lastPlan = null;
const locked = new Map();  // scene index → track_id the user fixed (swapped or locked)

function sceneCard(s, k) {
  const t = s.track;
  const alts = (s.alternatives || []).filter((a) => byPath.has(a.path));
  const options = [`<option value="">swap for…</option>`].concat(alts.map((a) =>
    `<option value="${byPath.get(a.path).track_id}">${esc(nameOf(a.path))} (${esc(a.reason)})</option>`)).join("");
  const isLocked = locked.has(k);
  return `<div class="card${isLocked ? " locked" : ""}" data-scene="${k}"><div class="top"><strong>Scene ${k + 1}</strong>
    <span class="muted">${clock(s.start_seconds)} · ${s.words} words${s.chapter_title ? " · " + esc(s.chapter_title) : ""}</span>
    <span>${chips(s.moods)}</span><span class="muted">V ${fmt(s.valence)} A ${fmt(s.arousal)}</span></div>
    <div class="excerpt">“${esc(excerpt(s.text))}”</div>
    ${t ? `<div><span class="name" title="${esc(t.path)}">→ ${esc(nameOf(t.path))}</span>${t.looped ? ' <span class="muted">(looped)</span>' : ""}</div>
    <div class="why">${esc(t.why)}</div><audio controls preload="none" src="/audio/${t.track_id}"></audio>
    <div class="edit"><label><input type="checkbox" class="lock" data-scene="${k}"${isLocked ? " checked" : ""}> keep this track</label>
      ${alts.length ? `<select class="swap" data-scene="${k}">${options}</select>` : ""}</div>` : '<div class="muted">no track</div>'}</div>`;
}

function renderPlan(plan) {
  lastPlan = plan;
  locked.clear();
  (plan.locked || []).forEach((k) => { const t = plan.scenes[k] && plan.scenes[k].track; if (t) locked.set(k, t.track_id); });
  const scenes = plan.scenes;
  const notes = (plan.notes || []).map((n) => `<div class="muted">note: ${esc(n)}</div>`).join("");
  $("plan-out").innerHTML = `${notes}<div class="row"><strong id="plan-count">${scenes.length} scene${scenes.length === 1 ? "" : "s"}</strong>
    <button id="dl-json">Download plan.json</button><a id="dl-m3u" href="/api/plans/${esc(plan.plan_id)}/playlist.m3u" download="playlist.m3u">Download playlist.m3u</a>
    <button id="mix-go">Render the mix (.ogg)</button><progress id="mix-progress" hidden></progress><span class="muted" id="mix-status"></span>
    <button class="go" id="to-read">Read along</button></div>
    <div id="mix-out"></div>${arcSvg(scenes)}
    <div class="row"><button id="replan" disabled>Re-plan the rest</button><span class="muted">keep or swap tracks, then re-plan the other scenes around them</span></div>
    <div id="scene-cards">${scenes.map(sceneCard).join("")}</div>`;
  $("mix-go").onclick = () => renderMix(plan.plan_id);
  $("to-read").onclick = () => showTab("read");
  $("dl-json").onclick = () => download("plan.json", JSON.stringify(plan, null, 2), "application/json");
  $("replan").onclick = replan;
  $("replan").disabled = locked.size === 0;
  document.querySelectorAll("#scene-cards .lock").forEach((box) => box.addEventListener("change", () => {
    const k = Number(box.dataset.scene);
    if (box.checked) locked.set(k, scenes[k].track.track_id); else locked.delete(k);
    box.closest(".card").classList.toggle("locked", box.checked);
    $("replan").disabled = locked.size === 0;
  }));
  document.querySelectorAll("#scene-cards .swap").forEach((sel) => sel.addEventListener("change", () => {
    if (!sel.value) return;
    const k = Number(sel.dataset.scene);
    locked.set(k, Number(sel.value));  // a swapped scene is kept as swapped when the rest is re-planned
    replan();
  }));
  renderReadAlong(plan);
  if (library) renderLibrary();
}

async function replan() {
  if (!lastPlan) return;
  const fixed = Object.fromEntries([...locked].map(([k, id]) => [String(k), id]));
  await runJob(`/api/jobs/replan?plan=${encodeURIComponent(lastPlan.plan_id)}`,
    {body: JSON.stringify({fixed}), headers: {"Content-Type": "application/json"}});
}

// The mix streams while it renders: the bytes arrive as the server writes them; leaving the page stops it.
async function renderMix(planId) {
  $("mix-go").disabled = true;
  $("mix-status").textContent = "mixing: the chosen tracks cut or looped to each scene, crossfaded…";
  const bar = $("mix-progress");
  try {
    const response = await fetch(`/api/mix?plan=${encodeURIComponent(planId)}`, {method: "POST", headers: {"X-Storyscore-Token": TOKEN}});
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
    const jobId = response.headers.get("X-Storyscore-Job");
    const reader = response.body.getReader();
    const parts = [];
    let received = 0, lastPoll = 0;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      if (Date.now() - lastPoll > 500) {
        lastPoll = Date.now();
        api(`/api/jobs/${jobId}`).then((j) => { if (j.total) { bar.hidden = false; bar.max = j.total; bar.value = j.done; } }).catch(() => {});
      }
      $("mix-status").textContent = `mixing… ${(received / 1e6).toFixed(1)} MB so far`;
    }
    const job = await api(`/api/jobs/${jobId}`).catch(() => ({}));
    const warnings = (job.result && job.result.warnings) || [];
    const url = URL.createObjectURL(new Blob(parts, {type: "audio/ogg"}));
    $("mix-out").innerHTML = `<audio controls src="${url}"></audio> <a href="${url}" download="soundtrack.ogg">save soundtrack.ogg</a>`
      + warnings.map((w) => `<div class="muted">mix: ${esc(w)}</div>`).join("");
    $("mix-status").textContent = "";
  } catch (e) { $("mix-status").textContent = ""; $("plan-error").textContent = e.message; }
  bar.hidden = true;
  $("mix-go").disabled = false;
}

// --- read along: the story as text, scene by scene; the scene at the reading line plays ---
const FADE_MS = 1500;
let reading = false, playingScene = -1, activeAudio = null, fadeTimer = null;

function renderReadAlong(plan) {
  stopReading();
  $("read-help").textContent = `${plan.title || "The story"}: scroll to read. The scene at the middle of the screen plays and crossfades into the next.`;
  $("read-start").disabled = false;
  $("readalong").dataset.playing = "-1";
  $("readalong").innerHTML = plan.scenes.map((s, k) => {
    const paragraphs = s.text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
    const head = s.track ? `Scene ${k + 1} · ${esc(nameOf(s.track.path))}` : `Scene ${k + 1} · no track`;
    return `<div class="scene-block" data-scene="${k}"><div class="scene-head">${head}</div>${paragraphs.map((p) => `<p>${esc(p)}</p>`).join("")}</div>`;
  }).join("");
  playingScene = -1;
  updateReading();
}

function sceneAtReadingLine() {
  const line = window.innerHeight * 0.45;
  const blocks = [...document.querySelectorAll("#readalong .scene-block")];
  let found = -1;
  blocks.forEach((b, k) => { if (b.getBoundingClientRect().top <= line) found = k; });
  return blocks.length ? Math.max(0, found) : -1;
}

function fade(audio, from, to, then) {
  const start = performance.now();
  const step = () => {
    const f = Math.min(1, (performance.now() - start) / FADE_MS);
    audio.volume = Math.max(0, Math.min(1, from + (to - from) * Math.sin(f * Math.PI / 2)));
    if (f < 1) audio._fade = requestAnimationFrame(step); else if (then) then();
  };
  cancelAnimationFrame(audio._fade);
  step();
}

function playScene(k) {
  const s = lastPlan && lastPlan.scenes[k];
  const prev = playingScene >= 0 && lastPlan.scenes[playingScene];
  playingScene = k;
  $("readalong").dataset.playing = String(k);
  document.querySelectorAll("#readalong .scene-block").forEach((b) => b.classList.toggle("playing", Number(b.dataset.scene) === k));
  $("read-now").textContent = s && s.track ? `playing scene ${k + 1}: ${nameOf(s.track.path)}` : `scene ${k + 1}: no track`;
  if (!reading) return;
  if (s && prev && s.track && prev.track && s.track.track_id === prev.track.track_id) return;  // the same track runs on
  const old = activeAudio;
  if (old) fade(old, old.volume, 0, () => old.pause());
  if (!s || !s.track) { activeAudio = null; return; }
  const next = old === $("ra-a") ? $("ra-b") : $("ra-a");
  next.src = `/audio/${s.track.track_id}`;
  next.dataset.scene = String(k);
  next.volume = 0;
  const startAt = s.track.offset || 0;
  next.addEventListener("loadedmetadata", () => { try { next.currentTime = startAt % (next.duration || Infinity); } catch (e) { /* not seekable yet */ } }, {once: true});
  next.loop = true;
  next.play().catch(() => {});
  fade(next, 0, 1);
  activeAudio = next;
}

function updateReading() {
  const k = sceneAtReadingLine();
  if (k !== playingScene && k >= 0) playScene(k);
}

function stopReading() {
  reading = false;
  ["ra-a", "ra-b"].forEach((id) => { const a = $(id); cancelAnimationFrame(a._fade); a.pause(); });
  activeAudio = null;
  $("read-start").textContent = "Start reading along";
}

let scrollQueued = false;
window.addEventListener("scroll", () => {
  if (scrollQueued || !$("read").classList.contains("on")) return;
  scrollQueued = true;
  requestAnimationFrame(() => { scrollQueued = false; updateReading(); });
}, {passive: true});

$("read-start").addEventListener("click", () => {
  if (reading) { stopReading(); return; }
  reading = true;
  $("read-start").textContent = "Stop the music";
  const k = sceneAtReadingLine();
  playingScene = -1;
  if (k >= 0) playScene(k);
});

// --- the library: one filter for the table and the map; the last plan's scenes drawn over the map ---
function renderLibrary() {
  if (!library) { getLibrary().then(renderLibrary).catch((e) => { $("lib-table").innerHTML = `<div class="error">${esc(e.message)}</div>`; }); return; }
  const q = $("lib-filter").value.toLowerCase().trim();
  const rows = library.map((t, k) => [t, k]).filter(([t]) => !q || [t.name, t.album, t.genre, t.moods.join(" ")].some((s) => (s || "").toLowerCase().includes(q)));
  const w = 560, h = 420, pad = 30, x = (v) => pad + (w - 2 * pad) * (v + 1) / 2, y = (a) => h - pad - (h - 2 * pad) * (a + 1) / 2;
  const dots = rows.map(([t, k]) => `<circle class="track-dot" data-k="${k}" cx="${x(t.valence).toFixed(1)}" cy="${y(t.arousal).toFixed(1)}" r="5" fill="#3056d3" fill-opacity=".6"><title>${esc(t.name)}: ${esc(t.moods.join(", "))}</title></circle>`).join("");
  const scenes = (lastPlan ? lastPlan.scenes : []).map((s, k) => `<g class="scene-mark"><rect x="${(x(s.valence) - 7).toFixed(1)}" y="${(y(s.arousal) - 7).toFixed(1)}" width="14" height="14" fill="#d36b30" fill-opacity=".85"/>
    <text x="${x(s.valence).toFixed(1)}" y="${(y(s.arousal) + 4).toFixed(1)}" font-size="10" text-anchor="middle" fill="#fff">${k + 1}</text><title>scene ${k + 1}</title></g>`).join("");
  $("va-plot").innerHTML = `<svg viewBox="0 0 ${w} ${h}" width="${w}"><line x1="${pad}" x2="${w - pad}" y1="${h / 2}" y2="${h / 2}" stroke="#c9ced8"/>
    <line x1="${w / 2}" x2="${w / 2}" y1="${pad}" y2="${h - pad}" stroke="#c9ced8"/>
    <text x="${w - pad}" y="${h / 2 - 6}" font-size="12" text-anchor="end" fill="#5b6475">positive</text><text x="${pad}" y="${h / 2 - 6}" font-size="12" fill="#5b6475">negative</text>
    <text x="${w / 2 + 6}" y="${pad - 8}" font-size="12" fill="#5b6475">intense</text><text x="${w / 2 + 6}" y="${h - pad + 18}" font-size="12" fill="#5b6475">calm</text>${dots}${scenes}</svg>`;
  $("va-plot").querySelectorAll("circle").forEach((c) => c.addEventListener("click", () => { const t = library[c.dataset.k]; play(t.track_id, t.path); }));
  $("lib-table").innerHTML = `<table><tr><th>track</th><th>album</th><th>length</th><th>valence</th><th>arousal</th><th>moods</th></tr>${
    rows.map(([t, k]) => `<tr class="track" data-k="${k}"><td class="name" title="${esc(t.path)}">${esc(t.name)}</td><td class="muted">${esc(t.album || "")}</td><td>${clock(t.duration)}</td>
      <td>${fmt(t.valence)}</td><td>${fmt(t.arousal)}</td><td>${chips(t.moods)}</td></tr>`).join("")}</table>`;
  $("lib-table").querySelectorAll("tr.track").forEach((r) => r.addEventListener("click", () => { const t = library[r.dataset.k]; play(t.track_id, t.path); }));
}
$("lib-filter").addEventListener("input", () => library && renderLibrary());

loadInfo();
