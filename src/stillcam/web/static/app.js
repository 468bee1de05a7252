// stillcam's page: menus from /api/info, the photo's 3D scene in a WebGL2 viewer, the move
// played with the server's per-frame clip matrices (the page computes no camera), renders
// queued on the server. The viewer draws sharp frames; paused, with depth of field or motion
// blur on, the server's lens preview of the frame (/api/preview/frame) is laid over it.
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

init().catch((error) => { $("warnings").textContent = `error: ${error.message}`; });
