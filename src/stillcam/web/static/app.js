// stillcam's page: menus from /api/info, the photo's 3D scene in a WebGL2 viewer, the move
// played with the server's per-frame clip matrices (the page computes no camera), renders
// queued on the server. The viewer draws sharp frames; paused, with depth of field or motion
// blur on, the server's lens preview of the frame (/api/preview/frame) is laid over it.
// Every finished render is a version (/api/versions): its changes from the one before, a note,
// Approve (its full-quality render), and an A/B compare of two versions' decoded frames
// (/api/versions/N/frames/I), split or side by side, one slider driving both.
// Plain ES module, no build step.

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const state = { info: null, photo: null, hasDepth: false, preview: null, scene: null, frame: 0, playing: false };

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
    throw Object.assign(new Error(detail), { status: response.status });
  }
  return response;
}
const withToken = (url) => (token ? `${url}?token=${encodeURIComponent(token)}` : url);

// ---------------------------------------------------------------- WebGL2 viewer
const gl = $("view").getContext("webgl2", { preserveDrawingBuffer: true, antialias: false });
const program = (() => {
  const vs = `#version 300 es
  in vec3 position; in vec2 uv; uniform mat4 clip; out vec2 v_uv;
  void main() { v_uv = uv; gl_Position = clip * vec4(position, 1.0); }`;
  const fs = `#version 300 es
  precision highp float; in vec2 v_uv; uniform sampler2D tex; out vec4 colour;
  void main() { colour = vec4(texture(tex, v_uv).rgb, 1.0); }`;
  const p = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
    const s = gl.createShader(type);
    gl.shaderSource(s, source);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    gl.attachShader(p, s);
  }
  gl.linkProgram(p);
  return p;
})();

async function loadScene(key) {
  const [meshResponse, textureResponse] = await Promise.all([
    api(`/api/scenes/${key}/mesh.bin`), api(`/api/scenes/${key}/texture.jpg`),
  ]);
  const buffer = await meshResponse.arrayBuffer();
  const [nVertices, nIndices] = new Uint32Array(buffer, 0, 2);
  const positions = new Float32Array(buffer, 8, nVertices * 3);
  const uvs = new Float32Array(buffer, 8 + nVertices * 12, nVertices * 2);
  const indices = new Uint32Array(buffer, 8 + nVertices * 20, nIndices);
  const image = await createImageBitmap(await textureResponse.blob());
  const vao = gl.createVertexArray();
  gl.bindVertexArray(vao);
  for (const [name, data, size] of [["position", positions, 3], ["uv", uvs, 2]]) {
    const b = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, b);
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
    const location = gl.getAttribLocation(program, name);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, gl.FLOAT, false, 0, 0);
  }
  gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, gl.createBuffer());
  gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, indices, gl.STATIC_DRAW);
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, image);
  gl.generateMipmap(gl.TEXTURE_2D);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR_MIPMAP_LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  state.scene = { key, vao, count: nIndices, texture };
}

function draw() {
  const picking = $("pick_focus").checked;
  // Picking the focus: the view a --focus X,Y is a pixel of (the photo at the output framing).
  const camera = state.preview && (picking ? state.preview.focus_camera : state.preview.cameras[state.frame]);
  $("view").classList.toggle("picking", picking);
  scheduleLens();
  gl.viewport(0, 0, gl.canvas.width, gl.canvas.height);
  gl.clearColor(0, 0, 0, 1);
  gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
  if (!camera || !state.scene) return;
  gl.useProgram(program);
  gl.enable(gl.DEPTH_TEST);
  gl.bindVertexArray(state.scene.vao);
  gl.bindTexture(gl.TEXTURE_2D, state.scene.texture);
  // Column-major 4x4 from the server: clip = K' * world_to_camera (stillcam.web.server.clip_matrix).
  gl.uniformMatrix4fv(gl.getUniformLocation(program, "clip"), false, new Float32Array(camera.clip));
  gl.drawElements(gl.TRIANGLES, state.scene.count, gl.UNSIGNED_INT, 0);
  $("frame_label").textContent = picking
    ? "click to focus: the photo at the output framing"
    : `frame ${state.preview.first_frame + state.frame}`;
  $("view").dataset.frame = String(state.frame);
}

// ---------------------------------------------------------------- menus and options
function moveExpression() {
  const name = $("move").value;
  const params = [...document.querySelectorAll("#params input")]
    .filter((input) => input.value !== "")
    .map((input) => `${input.dataset.param}=${input.value}`);
  return params.length ? `${name}(${params.join(", ")})` : name;
}

function options() {
  const o = {
    move: moveExpression(),
    duration: Number($("duration").value),
    fps: $("fps").value,
    size: $("size").value,
    codec: $("codec").value,
    depth_model: $("depth_model").value,
    allow_noncommercial: $("allow_noncommercial").checked,
  };
  if (state.hasDepth) o.depth_kind = $("depth_kind").value;
  if ($("focal_mm").value !== "") o.focal_mm = Number($("focal_mm").value);
  // Lens and shutter: an empty field is left out (its default: off, subject).
  if ($("fstop").value !== "") o.fstop = Number($("fstop").value);
  if ($("focus").value.trim() !== "") o.focus = $("focus").value.trim();
  if ($("shutter").value !== "") {
    o.shutter = Number($("shutter").value);
    if ($("shutter_samples").value !== "") o.shutter_samples = Number($("shutter_samples").value);
  }
  return o;
}

function showParams() {
  const spec = state.info.moves.find((m) => m.name === $("move").value);
  $("move_summary").textContent = spec.summary;
  $("params").replaceChildren(...spec.params.map((p) => {
    const label = document.createElement("label");
    label.textContent = `${p.name} [${p.unit}] `;
    label.title = p.help;
    const input = document.createElement("input");
    input.type = "number";
    input.step = "any";
    input.dataset.param = p.name;
    input.placeholder = p.default === null ? "unset" : String(p.default);
    input.addEventListener("input", schedulePreview);
    label.append(input);
    return label;
  }));
}

function fill(select, values, chosen) {
  select.replaceChildren(...values.map((v) => new Option(v, v, false, v === chosen)));
}

async function init() {
  state.info = await (await api("/api/info")).json();
  const d = state.info.defaults;
  $("version").textContent = `v${state.info.version}`;
  fill($("move"), state.info.moves.map((m) => m.name), "dolly-in");
  fill($("size"), state.info.sizes, "HD");
  fill($("codec"), state.info.codecs, d.codec);
  fill($("depth_model"), state.info.models.map((m) => m.name), d.depth_model);
  $("duration").value = d.duration;
  $("fps").value = d.fps;
  $("shutter_samples").value = d.shutter_samples;
  $("lens_px").textContent = state.info.lens_preview.long_side_px;
  $("lens_samples").textContent = state.info.lens_preview.shutter_samples;
  showParams();
  showLicence();
  for (const id of ["move"]) $(id).addEventListener("change", () => { showParams(); schedulePreview(); });
  for (const id of ["duration", "fps", "size", "focal_mm", "depth_kind", "depth_model", "allow_noncommercial", "codec",
    "fstop", "focus", "shutter", "shutter_samples"]) {
    $(id).addEventListener("change", schedulePreview);
  }
  $("depth_model").addEventListener("change", showLicence);
  $("photo").addEventListener("change", upload);
  // Drop a photo (or a photo and its depth map) anywhere on the viewer.
  $("viewer").addEventListener("dragover", (event) => event.preventDefault());
  $("viewer").addEventListener("drop", (event) => {
    event.preventDefault();
    const files = [...event.dataTransfer.files];
    const image = files.find((f) => f.type.startsWith("image/") && !/depth/i.test(f.name)) || files[0];
    const depth = files.find((f) => f !== image);
    if (!image) return;
    const set = (input, file) => { const t = new DataTransfer(); t.items.add(file); input.files = t.files; };
    if (depth) set($("depth"), depth);
    set($("photo"), image);
    upload();
  });
  $("depth").addEventListener("change", upload);
  $("frame").addEventListener("input", () => { state.frame = Number($("frame").value); draw(); });
  $("pick_focus").addEventListener("change", draw);
  $("view").addEventListener("click", pickFocus);
  $("play").addEventListener("click", togglePlay);
  $("render").addEventListener("click", startRender);
  $("copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText($("command").textContent));
  for (const id of ["ab_a", "ab_b"]) $(id).addEventListener("change", compareChanged);
  $("ab_mode").addEventListener("change", showCompare);
  $("ab_divider").addEventListener("input", drawSplit);
  $("ab_frame").addEventListener("input", showCompare);
  await listRenders();
}

function showLicence() {
  const model = state.info.models.find((m) => m.name === $("depth_model").value);
  $("licence").textContent = model ? `licence: ${model.licence}; commercial use: ${model.commercial}` : "";
}

async function upload() {
  const file = $("photo").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("photo", file);
  if ($("depth").files[0]) form.append("depth", $("depth").files[0]);
  $("upload_status").textContent = "uploading…";
  try {
    const photo = await (await api("/api/photos", { method: "POST", body: form })).json();
    state.photo = photo.id;
    state.hasDepth = photo.has_depth;
    $("upload_status").textContent = `${photo.width}×${photo.height}${photo.has_depth ? ", with depth" : ", depth from the model"}`;
    await refreshPreview();
  } catch (error) {
    $("upload_status").textContent = `error: ${error.message}`;
  }
}

let timer = null;
function schedulePreview() {
  clearTimeout(timer);
  timer = setTimeout(refreshPreview, 150);
}

async function refreshPreview() {
  if (!state.photo) return;
  $("warnings").textContent = "updating…";
  try {
    const body = JSON.stringify({ photo: state.photo, options: options() });
    const preview = await (await api("/api/preview", { method: "POST", body, headers: { "Content-Type": "application/json" } })).json();
    const first = preview.cameras[0];
    $("view").height = Math.round($("view").width * first.height / first.width);
    if (!state.scene || state.scene.key !== preview.scene) await loadScene(preview.scene);
    state.preview = preview;
    state.frame = Math.min(state.frame, preview.cameras.length - 1);
    Object.assign($("frame"), { max: preview.cameras.length - 1, value: state.frame, disabled: false });
    $("play").disabled = $("render").disabled = $("copy").disabled = false;
    $("command").textContent = preview.command;
    $("focus_status").textContent = preview.focus_m === null ? ""
      : `in focus at ${preview.focus_m.toFixed(2)} m (the first frame)`;
    $("warnings").textContent = preview.warnings.join(" ");
    $("view").dataset.ready = "1";
    draw();
  } catch (error) {
    if (error.status === 429) {  // the server is still making it (depth model, long shot): ask again
      $("warnings").textContent = "still working on the preview…";
      clearTimeout(timer);
      timer = setTimeout(refreshPreview, 2000);
      return;
    }
    $("warnings").textContent = `error: ${error.message}`;
  }
}

// Click to focus: the click's place as fractions of the frame (0,0 top left), the convention of
// --focus X,Y, in the view it is measured in (draw() shows it while picking).
function pickFocus(event) {
  if (!$("pick_focus").checked || !state.preview) return;
  const rect = $("view").getBoundingClientRect();
  const fraction = (v) => Math.min(1, Math.max(0, Number(v.toFixed(3))));
  const x = fraction((event.clientX - rect.left) / rect.width);
  const y = fraction((event.clientY - rect.top) / rect.height);
  $("focus").value = `${x},${y}`;
  $("pick_focus").checked = false;
  draw();
  schedulePreview();
}

// ---------------------------------------------------------------- lens preview
function lensOn() {
  const o = options();
  return o.fstop > 0 || (o.shutter > 0 && (o.shutter_samples ?? state.info.defaults.shutter_samples) > 1);
}

let lensTimer = null;
let lensAsk = 0;  // the latest lens request: older answers are dropped
function scheduleLens() {
  clearTimeout(lensTimer);
  lensAsk += 1;
  $("lens_view").hidden = true;
  delete $("view").dataset.lens;
  if (!state.preview || state.playing || $("pick_focus").checked || !lensOn()) {
    $("lens_status").textContent = "";
    return;
  }
  lensTimer = setTimeout(refreshLens, 200);
}

async function refreshLens() {
  const ask = lensAsk;
  const index = state.frame;
  $("lens_status").textContent = "rendering the lens preview…";
  try {
    const body = JSON.stringify({ photo: state.photo, options: options(), index });
    const response = await api("/api/preview/frame", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    const url = URL.createObjectURL(await response.blob());
    const image = $("lens_view");
    if (ask !== lensAsk) { URL.revokeObjectURL(url); return; }
    if (image.src) URL.revokeObjectURL(image.src);
    image.src = url;
    await image.decode();
    if (ask !== lensAsk) return;
    image.hidden = false;
    $("view").dataset.lens = String(index);
    $("lens_status").textContent = `frame ${state.preview.first_frame + index}: lens preview rendered by the server`;
  } catch (error) {
    if (ask !== lensAsk) return;
    if (error.status === 429) { lensTimer = setTimeout(refreshLens, 2000); return; }
    $("lens_status").textContent = `lens preview: ${error.message}`;
  }
}

function togglePlay() {
  state.playing = !state.playing;
  $("play").textContent = state.playing ? "Pause" : "Play";
  if (!state.playing) draw();  // paused: the lens preview of this frame
  let last = performance.now();
  const step = (now) => {
    if (!state.playing || !state.preview) return;
    if (now - last >= 1000 / state.preview.fps) {
      last = now;
      state.frame = (state.frame + 1) % state.preview.cameras.length;
      $("frame").value = state.frame;
      draw();
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

// ---------------------------------------------------------------- renders
async function startRender() {
  const body = JSON.stringify({ photo: state.photo, options: options() });
  try {
    const job = await (await api("/api/renders", { method: "POST", body, headers: { "Content-Type": "application/json" } })).json();
    $("render_status").textContent = "queued";
    poll(job.id);
  } catch (error) {
    $("render_status").textContent = `error: ${error.message}`;
  }
}

async function poll(id) {
  const job = await (await api(`/api/renders/${id}`)).json();
  $("progress").value = job.progress;
  $("render_status").textContent = job.state + (job.error ? `: ${job.error}` : "");
  $("render_status").dataset.state = job.state;
  if (job.state === "queued" || job.state === "running") setTimeout(() => poll(id), 500);
  else await listRenders();
}

async function listRenders() {
  listVersions();
  const jobs = await (await api("/api/renders")).json();
  $("renders").replaceChildren(...jobs.map((job) => {
    const item = document.createElement("li");
    item.textContent = `${new Date(job.created * 1000).toLocaleTimeString()} ${job.state} `;
    for (const name of job.files) {
      const link = document.createElement("a");
      link.href = withToken(`/api/renders/${job.id}/files/${encodeURIComponent(name)}`);
      link.textContent = name;
      link.download = name;
      item.append(link, " ");
    }
    return item;
  }));
}

// ---------------------------------------------------------------- versions
const versions = { list: [], frames: { a: null, b: null }, ask: 0 };

async function listVersions() {
  let list;
  try {
    list = await (await api("/api/versions")).json();
  } catch (error) {
    $("ab_status").textContent = `versions: ${error.message}`;
    return;
  }
  versions.list = list;
  const typed = {};  // notes being edited stay as typed
  for (const area of document.querySelectorAll("#versions textarea[data-dirty='1']")) typed[area.dataset.version] = area.value;
  $("versions").replaceChildren(...list.map((v) => versionItem(v, typed[v.version])));
  $("versions").dataset.count = String(list.length);
  for (const [id, fallback] of [["ab_a", list.length - 2], ["ab_b", list.length - 1]]) {
    const select = $(id);
    const chosen = select.value || (list[Math.max(0, fallback)] ? String(list[Math.max(0, fallback)].version) : "");
    select.replaceChildren(...list.map((v) => new Option(`v${v.version}`, String(v.version), false, String(v.version) === chosen)));
  }
  if (list.length) compareChanged();
}

function versionItem(v, typed) {
  const item = document.createElement("li");
  item.value = v.version;
  item.dataset.version = String(v.version);
  const head = document.createElement("div");
  const when = new Date(v.created * 1000).toLocaleTimeString();
  const size = v.width ? ` ${v.width}×${v.height}, ${v.frames} frames` : "";
  head.textContent = `v${v.version} ${when}${size}: ${v.summary} `;
  if (v.approves !== null) {
    const tag = Object.assign(document.createElement("span"), { className: "tag", textContent: `approved render of v${v.approves}` });
    head.append(tag);
  }
  for (const a of v.approvals) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = a.version ? ` approved: v${a.version}` : ` approval ${a.state}`;
    head.append(tag);
  }
  const changes = document.createElement("ul");
  changes.className = "changes";
  const lines = v.error ? [`error: ${v.error}`]
    : v.previous === null ? ["(first version)"]
    : v.changes.length ? v.changes.map((c) => c.line) : ["(no change)"];
  if (v.previous !== null && !v.error) changes.title = `changes from v${v.previous}`;
  if (v.approved_changes && v.previous !== v.approves) {  // another version came between
    lines.push(`from v${v.approves}:`, ...(v.approved_changes.length ? v.approved_changes.map((c) => `  ${c.line}`) : ["  (no change)"]));
  }
  changes.replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
  const note = document.createElement("textarea");
  note.rows = 2;
  note.maxLength = 2000;
  note.placeholder = "note";
  note.dataset.version = String(v.version);
  note.value = typed ?? v.note;
  if (typed !== undefined) note.dataset.dirty = "1";
  note.addEventListener("input", () => { note.dataset.dirty = "1"; });
  const status = Object.assign(document.createElement("span"), { className: "note" });
  const save = Object.assign(document.createElement("button"), { textContent: "Save note", className: "save_note" });
  save.addEventListener("click", async () => {
    try {
      const body = JSON.stringify({ note: note.value });
      await api(`/api/versions/${v.version}/note`, { method: "PUT", body, headers: { "Content-Type": "application/json" } });
      delete note.dataset.dirty;
      status.textContent = " saved";
    } catch (error) {
      status.textContent = ` error: ${error.message}`;
    }
  });
  const size_ = Object.assign(document.createElement("input"), { type: "text", placeholder: "size (its own)", className: "approve_size" });
  size_.style.width = "9em";
  const approve = Object.assign(document.createElement("button"), { textContent: "Approve", className: "approve" });
  approve.disabled = v.approves !== null;
  approve.addEventListener("click", async () => {
    try {
      const body = JSON.stringify(size_.value.trim() ? { size: size_.value.trim() } : {});
      const job = await (await api(`/api/versions/${v.version}/approve`, { method: "POST", body, headers: { "Content-Type": "application/json" } })).json();
      status.textContent = " approval queued";
      $("render_status").textContent = "queued (approval)";
      poll(job.id);
    } catch (error) {
      status.textContent = ` error: ${error.message}`;
    }
  });
  item.append(head, changes, note, save, " ", size_, " ", approve, status);
  return item;
}

function versionOf(select) {
  return versions.list.find((v) => String(v.version) === $(select).value);
}

function compareChanged() {
  const a = versionOf("ab_a");
  const b = versionOf("ab_b");
  if (!a || !b) return;
  const frames = Math.min(a.frames || 1, b.frames || 1);
  const slider = $("ab_frame");
  Object.assign(slider, { max: frames - 1, disabled: false });
  if (Number(slider.value) > frames - 1) slider.value = frames - 1;
  $("ab_caption_a").textContent = `A: v${a.version}`;
  $("ab_caption_b").textContent = `B: v${b.version}`;
  showCompare();
}

async function frameImage(version, index) {
  const response = await api(`/api/versions/${version}/frames/${index}`);
  return createImageBitmap(await response.blob());
}

// Both versions' frame `index` from the server, drawn at their own size (one slider, one index).
async function showCompare() {
  const a = versionOf("ab_a");
  const b = versionOf("ab_b");
  const side = $("ab_mode").value === "side";
  $("ab_side").hidden = !side;
  $("ab_split_box").hidden = side;
  if (!a || !b) return;
  const index = Number($("ab_frame").value);
  const ask = ++versions.ask;
  delete $("compare").dataset.frame;
  $("ab_status").textContent = "loading frames…";
  try {
    const [imageA, imageB] = await Promise.all([frameImage(a.version, index), frameImage(b.version, index)]);
    if (ask !== versions.ask) return;  // a newer scrub answered first
    versions.frames = { a: imageA, b: imageB };
    for (const [id, image] of [["ab_canvas_a", imageA], ["ab_canvas_b", imageB]]) {
      const canvas = $(id);
      Object.assign(canvas, { width: image.width, height: image.height });
      canvas.getContext("2d").drawImage(image, 0, 0);
    }
    drawSplit();
    $("ab_label").textContent = `frame ${(a.first_frame ?? 0) + index} (${index + 1} of ${Number($("ab_frame").max) + 1})`;
    $("ab_status").textContent = `A: v${a.version}, B: v${b.version}, frames decoded from their videos by the server`;
    Object.assign($("compare").dataset, { a: String(a.version), b: String(b.version), frame: String(index) });
  } catch (error) {
    if (ask === versions.ask) $("ab_status").textContent = `compare: ${error.message}`;
  }
}

// The split view: A left of the divider, B (scaled to A's size) right of it.
function drawSplit() {
  const { a, b } = versions.frames;
  if (!a || !b) return;
  const canvas = $("ab_split");
  Object.assign(canvas, { width: a.width, height: a.height });
  const context = canvas.getContext("2d");
  context.drawImage(a, 0, 0);
  const x = Math.round(Number($("ab_divider").value) * a.width);
  context.save();
  context.beginPath();
  context.rect(x, 0, a.width - x, a.height);
  context.clip();
  context.drawImage(b, 0, 0, a.width, a.height);
  context.restore();
  canvas.dataset.divider = String(x);
}

init().catch((error) => { $("warnings").textContent = `error: ${error.message}`; });
