// The self-contained HTML viewer: scene geometry (glTF axes, metres) base64-embedded in a JSON block and either a
// small WebGL renderer written here (no network, no external library; the default) or three.js inlined from the
// system's libjs-three (HtmlViewer::kThree). Measured comparison: docs/viz.md.
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/axes.hpp"
#include "xraylift/viz/export.hpp"

namespace xraylift::viz {
namespace {

std::string base64(const void* data, std::size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* b = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v = (std::uint32_t(b[i]) << 16) | (i + 1 < n ? std::uint32_t(b[i + 1]) << 8 : 0) |
                            (i + 2 < n ? std::uint32_t(b[i + 2]) : 0);
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? k[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? k[v & 63] : '=');
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o.push_back(c);
  }
  return o;
}

const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
html,body{margin:0;height:100%;background:#1b1e24;color:#e8e8e8;font:13px sans-serif;overflow:hidden}
#view{width:100%;height:100%;display:block}
#ui{position:absolute;top:8px;left:8px;background:rgba(20,22,28,.85);padding:8px 10px;border-radius:6px}
#ui label{margin-right:8px}
#info{position:absolute;bottom:8px;left:8px;background:rgba(20,22,28,.85);padding:8px 10px;border-radius:6px;
      white-space:pre;font-family:monospace;display:none}
#err{position:absolute;top:8px;right:8px;color:#ff8080}
</style></head><body>
<canvas id="view"></canvas>
<div id="ui"><b>@TITLE@</b><br>
<label><input type="radio" name="mode" value="both" checked>both</label>
<label><input type="radio" name="mode" value="lungs">lungs</label>
<label><input type="radio" name="mode" value="nodules">nodules</label><br>
lung opacity <input id="opacity" type="range" min="0" max="100" value="@OPACITY@">
<div id="evui" style="display:none">evidence &ge; <input id="evthr" type="range" min="0" max="100" value="0">
<span id="evval">0.00</span></div>
@LUNGMODEL@<div style="opacity:.7">drag: orbit, wheel: zoom, click a nodule or evidence: details</div></div>
<div id="info"></div><div id="err"></div>
<script type="application/json" id="scene-data">@DATA@</script>
<script>
"use strict";
window.addEventListener('error', function (e) {
  console.error('XRAYLIFT_VIEWER_ERROR ' + e.message);
  document.getElementById('err').textContent = 'error: ' + e.message;
});
(function () {
  const S = JSON.parse(document.getElementById('scene-data').textContent);
  const canvas = document.getElementById('view');
  const gl = canvas.getContext('webgl', {preserveDrawingBuffer: true, antialias: true, alpha: false});
  if (!gl) throw new Error('WebGL is not available in this browser');
  if (!gl.getExtension('OES_element_index_uint')) throw new Error('OES_element_index_uint missing');
  function bytes(s) { const b = atob(s), u = new Uint8Array(b.length); for (let i = 0; i < b.length;
    i++) u[i] = b.charCodeAt(i); return u.buffer; }
  function shader(type, src) {
    const sh = gl.createShader(type); gl.shaderSource(sh, src); gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(sh));
    return sh;
  }
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER,
    'attribute vec3 p; attribute vec3 n; uniform mat4 mvp; uniform mat4 mv; varying vec3 vn;' +
    'void main() { vn = (mv * vec4(n, 0.0)).xyz; gl_Position = mvp * vec4(p, 1.0); }'));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER,
    'precision mediump float; varying vec3 vn; uniform vec4 col;' +
    'void main() { vec3 N = normalize(vn); float l = 0.35 + 0.65 * abs(N.z); ' +
    'gl_FragColor = vec4(col.rgb * l, col.a); }'));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
  gl.useProgram(prog);
  const loc = {p: gl.getAttribLocation(prog, 'p'), n: gl.getAttribLocation(prog, 'n'),
               mvp: gl.getUniformLocation(prog, 'mvp'), mv: gl.getUniformLocation(prog, 'mv'),
                 col: gl.getUniformLocation(prog, 'col')};
  let lo = [1e9, 1e9, 1e9], hi = [-1e9, -1e9, -1e9];
  const nodes = S.nodes.map(function (nd) {
    const pos = new Float32Array(bytes(nd.positions)), nrm = new Float32Array(bytes(nd.normals));
    const idx = new Uint32Array(bytes(nd.indices));
    const c = [0, 0, 0];
    for (let i = 0; i < pos.length; i += 3) for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], pos[i + a]); hi[a] = Math.max(hi[a], pos[i + a]); c[a] += pos[i + a] * 3 / pos.length;
    }
    let r = 0;
    for (let i = 0; i < pos.length; i += 3) r = Math.max(r, Math.hypot(pos[i] - c[0], pos[i + 1] - c[1], pos[i +
      2] - c[2]));
    const b = [gl.createBuffer(), gl.createBuffer(), gl.createBuffer()];
    gl.bindBuffer(gl.ARRAY_BUFFER, b[0]); gl.bufferData(gl.ARRAY_BUFFER, pos, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, b[1]); gl.bufferData(gl.ARRAY_BUFFER, nrm, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, b[2]); gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, idx, gl.STATIC_DRAW);
    return {d: nd, buf: b, count: idx.length, centre: c, radius: r};
  });
  const target = [0, 1, 2].map(function (a) { return 0.5 * (lo[a] + hi[a]); });
  const extent = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], 1e-3);
  const view = {yaw: 0, pitch: 0.15, dist: 1.9 * extent, mode: 'both', opacity: @OPACITY@ / 100,
    evidence: 0};
  function mul(a, b) { const o = new Float32Array(16); for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0; for (let k = 0; k < 4; k++) s += a[k * 4 + j] * b[i * 4 + k]; o[i * 4 + j] = s; } return o; }
  function eye() { const cp = Math.cos(view.pitch); return [target[0] + view.dist * cp * Math.sin(view.yaw), target[1] +
    view.dist * Math.sin(view.pitch), target[2] + view.dist * cp * Math.cos(view.yaw)]; }
  function lookAt(e) {
    let z = [e[0] - target[0], e[1] - target[1], e[2] - target[2]]; let l = Math.hypot(z[0], z[1], z[2]);
      z = z.map(function (v) { return v / l; });
    let x = [z[2], 0, -z[0]]; l = Math.hypot(x[0], x[1], x[2]) || 1; x = x.map(function (v) { return v / l; });
    const y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
    const d = function (a) { return -(a[0] * e[0] + a[1] * e[1] + a[2] * e[2]); };
    return new Float32Array([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, d(x), d(y), d(z), 1]);
  }
  function perspective(aspect) {
    const f = 1 / Math.tan(0.5 * 0.7), n = view.dist * 0.02, fa = view.dist * 10;
    return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (fa + n) / (n - fa), -1, 0, 0,
      2 * fa * n / (n - fa), 0]);
  }
  function visible(nd) { const k = nd.d.kind;
    if (k === 'evidence' && Number(nd.d.info.score) < view.evidence) return false;
    return view.mode === 'both' || (view.mode === 'lungs' ? k === 'lung' : k !== 'lung'); }
  let frames = 0, mvCur = null, projCur = null;
  function draw() {
    const w = canvas.clientWidth || window.innerWidth, h = canvas.clientHeight || window.innerHeight;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    gl.viewport(0, 0, w, h);
    gl.clearColor(0.106, 0.118, 0.141, 1); gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    mvCur = lookAt(eye()); projCur = perspective(w / h);
    gl.uniformMatrix4fv(loc.mvp, false, mul(projCur, mvCur)); gl.uniformMatrix4fv(loc.mv, false, mvCur);
    const depth = function (nd) { const c = nd.centre; return mvCur[2] * c[0] + mvCur[6] * c[1] + mvCur[10] * c[2] +
      mvCur[14]; };
    const opaque = nodes.filter(function (nd) { return visible(nd) && !nd.d.translucent; });
    const blended = nodes.filter(function (nd) { return visible(nd) && nd.d.translucent; }).sort(function (a, b) {
      return depth(a) - depth(b); });
    gl.enable(gl.DEPTH_TEST); gl.depthMask(true); gl.disable(gl.BLEND);
    opaque.forEach(function (nd) { drawNode(nd, nd.d.rgba[3]); });
    gl.enable(gl.BLEND); gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA); gl.depthMask(false);
    blended.forEach(function (nd) { drawNode(nd, nd.d.kind === 'lung' ? view.opacity : nd.d.rgba[3]); });
    gl.depthMask(true);
    if (frames++ === 0)
      console.log('XRAYLIFT_VIEWER_OK nodes=' + nodes.length + ' first_frame_ms=' + performance.now().toFixed(0));
  }
  function drawNode(nd, alpha) {
    gl.bindBuffer(gl.ARRAY_BUFFER, nd.buf[0]); gl.enableVertexAttribArray(loc.p); gl.vertexAttribPointer(loc.p, 3,
      gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, nd.buf[1]); gl.enableVertexAttribArray(loc.n); gl.vertexAttribPointer(loc.n, 3,
      gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, nd.buf[2]);
    gl.uniform4f(loc.col, nd.d.rgba[0], nd.d.rgba[1], nd.d.rgba[2], alpha);
    gl.drawElements(gl.TRIANGLES, nd.count, gl.UNSIGNED_INT, 0);
  }
  function pick(px, py) {
    const w = canvas.width, h = canvas.height, e = eye();
    const f = 1 / Math.tan(0.35), xn = (2 * px / w - 1) * (w / h) / f, yn = (1 - 2 * py / h) / f;
    const m = mvCur, dir = [m[0] * xn + m[1] * yn - m[2], m[4] * xn + m[5] * yn - m[6], m[8] * xn + m[9] * yn - m[10]];
    const dl = Math.hypot(dir[0], dir[1], dir[2]); let best = null, bestT = 1e30;
    nodes.forEach(function (nd) {
      if (!visible(nd) || nd.d.kind === 'lung') return;
      const oc = [e[0] - nd.centre[0], e[1] - nd.centre[1], e[2] - nd.centre[2]];
      const b = (oc[0] * dir[0] + oc[1] * dir[1] + oc[2] * dir[2]) / dl, c = oc[0] * oc[0] + oc[1] * oc[1] +
        oc[2] * oc[2] - nd.radius * nd.radius;
      const disc = b * b - c; if (disc < 0) return; const t = -b - Math.sqrt(disc);
      if (t > 0 && t < bestT) { bestT = t; best = nd; }
    });
    const box = document.getElementById('info');
    if (!best) { box.style.display = 'none'; return null; }
    const i = best.d.info, f2 = function (a) { return a ? a.map(function (v) { return v.toFixed(1); }).join(', ') : '-';
      };
    box.textContent = best.d.name + '\nsource   ' + i.source + '\nscore    ' + Number(i.score).toFixed(3) +
      '\ndiameter ' + Number(i.diameter_mm).toFixed(1) + ' mm\nsize     ' + f2(i.size_mm) + ' mm\ncentre   ' +
        f2(i.center_mm) + ' mm (LPS)';
    box.style.display = 'block';
    return best.d.name;
  }
  let drag = null;
  canvas.addEventListener('mousedown', function (ev) { drag = {x: ev.clientX, y: ev.clientY, moved: false}; });
  window.addEventListener('mouseup', function (ev) { if (drag && !drag.moved) pick(ev.clientX, ev.clientY); drag = null;
    });
  window.addEventListener('mousemove', function (ev) {
    if (!drag) return; const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    view.yaw -= dx * 0.01; view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + dy * 0.01)); drag.x = ev.clientX;
      drag.y = ev.clientY; draw();
  });
  canvas.addEventListener('wheel', function (ev) { ev.preventDefault(); view.dist *= Math.exp(ev.deltaY * 0.001);
    draw(); }, {passive: false});
  document.getElementById('opacity').addEventListener('input', function (ev) { view.opacity = ev.target.value / 100;
    draw(); });
  document.querySelectorAll('input[name=mode]').forEach(function (r) { r.addEventListener('change', function (ev) {
    view.mode = ev.target.value; draw(); }); });
  // Evidence threshold: evidence nodes whose score (probability) is below it are hidden.
  const evidenceCount = nodes.filter(function (n) { return n.d.kind === 'evidence'; }).length;
  if (evidenceCount) document.getElementById('evui').style.display = 'block';
  document.getElementById('evthr').addEventListener('input', function (ev) { view.evidence = ev.target.value / 100;
    document.getElementById('evval').textContent = view.evidence.toFixed(2); draw(); });
  window.addEventListener('resize', draw);
  window.xrayliftViewer = {draw: draw, pick: pick, view: view, nodes: nodes};
  draw();
  // '#selftest': click (programmatically) at the projection of the first nodule and log what was picked.
  if (location.hash === '#selftest') {
    const nd = nodes.find(function (n) { return n.d.kind === 'nodule'; });
    if (nd) {
      const m = mul(projCur, mvCur), c = nd.centre.concat([1]), clip = [0, 0, 0, 0];
      for (let i = 0; i < 4; i++) for (let k = 0; k < 4; k++) clip[i] += m[k * 4 + i] * c[k];
      const px = (clip[0] / clip[3] + 1) / 2 * canvas.width, py = (1 - clip[1] / clip[3]) / 2 * canvas.height;
      console.log('XRAYLIFT_PICK ' + pick(px, py) + ' expected ' + nd.d.name + ' info ' +
        document.getElementById('info').textContent.split('\n').length);
    }
    if (evidenceCount) {  // move the evidence slider to 0.5 as a user would, count what stays visible
      const slider = document.getElementById('evthr');
      slider.value = 50; slider.dispatchEvent(new Event('input'));
      const shown = nodes.filter(function (n) { return n.d.kind === 'evidence' && visible(n); }).length;
      console.log('XRAYLIFT_EVIDENCE shown=' + shown + ' of ' + evidenceCount + ' at ' + view.evidence.toFixed(2));
    }
  }
})();
</script></body></html>
)HTML";

// The three.js variant: the same page, UI, console lines and '#selftest' as kPage, but the scene is drawn by
// three.js (inlined between the two halves, so the file stays self-contained). The orbit is the own renderer's
// small yaw/pitch/distance control, not libjs-three's examples/js/controls/OrbitControls.js: it keeps both
// viewers' interaction (and the picking camera) identical, so the measurement compares renderers only.
const char* kPageThreeHead = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
html,body{margin:0;height:100%;background:#1b1e24;color:#e8e8e8;font:13px sans-serif;overflow:hidden}
#view{width:100%;height:100%;display:block}
#ui{position:absolute;top:8px;left:8px;background:rgba(20,22,28,.85);padding:8px 10px;border-radius:6px}
#ui label{margin-right:8px}
#info{position:absolute;bottom:8px;left:8px;background:rgba(20,22,28,.85);padding:8px 10px;border-radius:6px;
      white-space:pre;font-family:monospace;display:none}
#err{position:absolute;top:8px;right:8px;color:#ff8080}
</style></head><body>
<canvas id="view"></canvas>
<div id="ui"><b>@TITLE@</b><br>
<label><input type="radio" name="mode" value="both" checked>both</label>
<label><input type="radio" name="mode" value="lungs">lungs</label>
<label><input type="radio" name="mode" value="nodules">nodules</label><br>
lung opacity <input id="opacity" type="range" min="0" max="100" value="@OPACITY@">
<div id="evui" style="display:none">evidence &ge; <input id="evthr" type="range" min="0" max="100" value="0">
<span id="evval">0.00</span></div>
@LUNGMODEL@<div style="opacity:.7">drag: orbit, wheel: zoom, click a nodule or evidence: details</div></div>
<div id="info"></div><div id="err"></div>
<script>
window.addEventListener('error', function (e) {
  console.error('XRAYLIFT_VIEWER_ERROR ' + e.message);
  document.getElementById('err').textContent = 'error: ' + e.message;
});
</script>
<script>)HTML";
const char* kPageThreeTail = R"HTML(</script>
<script type="application/json" id="scene-data">@DATA@</script>
<script>
"use strict";
(function () {
  if (typeof THREE === 'undefined') throw new Error('three.js did not load');
  const S = JSON.parse(document.getElementById('scene-data').textContent);
  const canvas = document.getElementById('view');
  const renderer = new THREE.WebGLRenderer({canvas: canvas, antialias: true, preserveDrawingBuffer: true});
  renderer.setClearColor(new THREE.Color(0.106, 0.118, 0.141), 1);
  renderer.sortObjects = true;  // translucent lungs drawn back to front after the opaque nodules
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(0.7 * 180 / Math.PI, 1, 0.01, 100);
  // Same shading as the own renderer (0.35 ambient + 0.65 head light), the light moving with the camera.
  scene.add(new THREE.AmbientLight(0xffffff, 0.35));
  const head = new THREE.DirectionalLight(0xffffff, 0.65);
  camera.add(head); scene.add(camera);
  function bytes(s) { const b = atob(s), u = new Uint8Array(b.length); for (let i = 0; i < b.length;
    i++) u[i] = b.charCodeAt(i); return u.buffer; }
  const box3 = new THREE.Box3();
  const nodes = S.nodes.map(function (nd) {
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(new Float32Array(bytes(nd.positions)), 3));
    g.setAttribute('normal', new THREE.BufferAttribute(new Float32Array(bytes(nd.normals)), 3));
    g.setIndex(new THREE.BufferAttribute(new Uint32Array(bytes(nd.indices)), 1));
    g.computeBoundingSphere();
    const m = new THREE.MeshLambertMaterial({color: new THREE.Color(nd.rgba[0], nd.rgba[1], nd.rgba[2]),
      transparent: !!nd.translucent, opacity: nd.rgba[3], depthWrite: !nd.translucent,
      side: nd.kind === 'lung' ? THREE.DoubleSide : THREE.FrontSide});
    const mesh = new THREE.Mesh(g, m); scene.add(mesh);
    box3.expandByObject(mesh);
    const out = {d: nd, mesh: mesh, centre: g.boundingSphere.center.toArray(), radius: g.boundingSphere.radius};
    mesh.userData.node = out;
    return out;
  });
  const target = box3.getCenter(new THREE.Vector3()), sz = box3.getSize(new THREE.Vector3());
  const extent = Math.max(sz.x, sz.y, sz.z, 1e-3);
  const view = {yaw: 0, pitch: 0.15, dist: 1.9 * extent, mode: 'both', opacity: @OPACITY@ / 100, evidence: 0};
  function visible(nd) { const k = nd.d.kind;
    if (k === 'evidence' && Number(nd.d.info.score) < view.evidence) return false;
    return view.mode === 'both' || (view.mode === 'lungs' ? k === 'lung' : k !== 'lung'); }
  let frames = 0;
  function place() {
    const w = canvas.clientWidth || window.innerWidth, h = canvas.clientHeight || window.innerHeight;
    renderer.setSize(w, h, false);
    const cp = Math.cos(view.pitch);
    camera.position.set(target.x + view.dist * cp * Math.sin(view.yaw), target.y + view.dist * Math.sin(view.pitch),
      target.z + view.dist * cp * Math.cos(view.yaw));
    camera.up.set(0, 1, 0); camera.lookAt(target);
    camera.aspect = w / h; camera.near = view.dist * 0.02; camera.far = view.dist * 10;
    camera.updateProjectionMatrix(); camera.updateMatrixWorld();
  }
  function draw() {
    place();
    nodes.forEach(function (nd) { nd.mesh.visible = visible(nd);
      if (nd.d.kind === 'lung') nd.mesh.material.opacity = view.opacity; });
    renderer.render(scene, camera);
    if (frames++ === 0) console.log('XRAYLIFT_VIEWER_OK nodes=' + nodes.length + ' three r' + THREE.REVISION +
      ' first_frame_ms=' + performance.now().toFixed(0));
  }
  const ray = new THREE.Raycaster();
  function pick(px, py) {
    place();
    const w = canvas.clientWidth || window.innerWidth, h = canvas.clientHeight || window.innerHeight;
    ray.setFromCamera(new THREE.Vector2(2 * px / w - 1, 1 - 2 * py / h), camera);
    const hits = ray.intersectObjects(nodes.filter(function (nd) { return visible(nd) && nd.d.kind !== 'lung'; })
      .map(function (nd) { return nd.mesh; }));
    const box = document.getElementById('info');
    if (!hits.length) { box.style.display = 'none'; return null; }
    const best = hits[0].object.userData.node;
    const i = best.d.info, f2 = function (a) { return a ? a.map(function (v) { return v.toFixed(1); }).join(', ') : '-';
      };
    box.textContent = best.d.name + '\nsource   ' + i.source + '\nscore    ' + Number(i.score).toFixed(3) +
      '\ndiameter ' + Number(i.diameter_mm).toFixed(1) + ' mm\nsize     ' + f2(i.size_mm) + ' mm\ncentre   ' +
        f2(i.center_mm) + ' mm (LPS)';
    box.style.display = 'block';
    return best.d.name;
  }
  let drag = null;
  canvas.addEventListener('mousedown', function (ev) { drag = {x: ev.clientX, y: ev.clientY, moved: false}; });
  window.addEventListener('mouseup', function (ev) { if (drag && !drag.moved) pick(ev.clientX, ev.clientY); drag = null;
    });
  window.addEventListener('mousemove', function (ev) {
    if (!drag) return; const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    view.yaw -= dx * 0.01; view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + dy * 0.01)); drag.x = ev.clientX;
      drag.y = ev.clientY; draw();
  });
  canvas.addEventListener('wheel', function (ev) { ev.preventDefault(); view.dist *= Math.exp(ev.deltaY * 0.001);
    draw(); }, {passive: false});
  document.getElementById('opacity').addEventListener('input', function (ev) { view.opacity = ev.target.value / 100;
    draw(); });
  document.querySelectorAll('input[name=mode]').forEach(function (r) { r.addEventListener('change', function (ev) {
    view.mode = ev.target.value; draw(); }); });
  const evidenceCount = nodes.filter(function (n) { return n.d.kind === 'evidence'; }).length;
  if (evidenceCount) document.getElementById('evui').style.display = 'block';
  document.getElementById('evthr').addEventListener('input', function (ev) { view.evidence = ev.target.value / 100;
    document.getElementById('evval').textContent = view.evidence.toFixed(2); draw(); });
  window.addEventListener('resize', draw);
  window.xrayliftViewer = {draw: draw, pick: pick, view: view, nodes: nodes, three: THREE.REVISION};
  draw();
  if (location.hash === '#selftest') {
    const nd = nodes.find(function (n) { return n.d.kind === 'nodule'; });
    if (nd) {
      const p = new THREE.Vector3().fromArray(nd.centre).project(camera);
      const w = canvas.clientWidth || window.innerWidth, h = canvas.clientHeight || window.innerHeight;
      console.log('XRAYLIFT_PICK ' + pick((p.x + 1) / 2 * w, (1 - p.y) / 2 * h) + ' expected ' + nd.d.name +
        ' info ' + document.getElementById('info').textContent.split('\n').length);
    }
    if (evidenceCount) {
      const slider = document.getElementById('evthr');
      slider.value = 50; slider.dispatchEvent(new Event('input'));
      const shown = nodes.filter(function (n) { return n.d.kind === 'evidence' && visible(n); }).length;
      console.log('XRAYLIFT_EVIDENCE shown=' + shown + ' of ' + evidenceCount + ' at ' + view.evidence.toFixed(2));
    }
  }
})();
</script></body></html>
)HTML";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

}  // namespace

HtmlViewer parse_html_viewer(const std::string& s) {
  if (s == "webgl") return HtmlViewer::kWebGL;
  if (s == "three") return HtmlViewer::kThree;
  throw core::ConfigError(core::cat("html viewer '", s, "': expected webgl | three"));
}

std::filesystem::path three_js_path() {
  if (const char* env = std::getenv("XRAYLIFT_THREE_JS"); env && *env) return env;
  return "/usr/share/javascript/three/three.min.js";
}

void write_html(const std::filesystem::path& path, const Scene& scene, const std::string& title, HtmlViewer viewer) {
  XL_CHECK(!scene.nodes.empty(), "write_html ", path.string(), ": empty scene");
  std::string three;
  if (viewer == HtmlViewer::kThree) {
    // Read before any work so a missing library fails fast, naming where it was looked for.
    const std::filesystem::path js = three_js_path();
    if (!std::filesystem::is_regular_file(js))
      throw core::ConfigError(core::cat("write_html ", path.string(), ": viewer three needs three.js at ", js.string(),
                                        " (Debian package libjs-three, or set XRAYLIFT_THREE_JS); not found"));
    three = core::read_file(js);
    XL_CHECK(three.find("</script") == std::string::npos, "write_html: ", js.string(),
             " contains '</script' and cannot be inlined");
  }
  nlohmann::json nodes = nlohmann::json::array();
  float lung_opacity = 0.35f;
  std::string lung_model;  // which lung model the scene shows (scene_source.hpp: ct, views or template)
  for (const auto& node : scene.nodes) {
    if (node.kind == NodeKind::kLung && lung_model.empty() && node.info.contains("lung_model") &&
        node.info["lung_model"].is_string())
      lung_model = node.info["lung_model"].get<std::string>();
    validate_mesh(node.mesh, "write_html node " + node.name);
    std::vector<Eigen::Vector3f> pos(node.mesh.vertices.size());
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = lps_mm_to_gltf(node.mesh.vertices[i]);
    std::vector<Eigen::Vector3f> nrm = vertex_normals(node.mesh);
    for (auto& n : nrm) n = lps_dir_to_gltf(n);
    if (node.kind == NodeKind::kLung) lung_opacity = node.rgba[3];
    nodes.push_back({{"name", node.name},
                     {"kind", to_string(node.kind)},
                     {"rgba", {node.rgba[0], node.rgba[1], node.rgba[2], node.rgba[3]}},
                     {"translucent", node.translucent},
                     {"info", node.info},
                     {"positions", base64(pos.data(), pos.size() * 12)},
                     {"normals", base64(nrm.data(), nrm.size() * 12)},
                     {"indices", base64(node.mesh.triangles.data(), node.mesh.triangles.size() * 12)}});
  }
  std::string data =
      nlohmann::json{{"frame", "glTF axes (X left, Y superior, Z anterior), metres"}, {"nodes", nodes}}.dump();
  replace_all(data, "</", "<\\/");  // never close the script element early
  // three.js is spliced in between the two halves after substitution, so nothing in it is taken for a marker.
  std::string head = viewer == HtmlViewer::kThree ? kPageThreeHead : kPage;
  std::string tail = viewer == HtmlViewer::kThree ? kPageThreeTail : "";
  for (std::string* page : {&head, &tail}) {
    replace_all(*page, "@TITLE@", html_escape(title));
    replace_all(*page, "@OPACITY@", std::to_string(int(std::lround(lung_opacity * 100))));
    replace_all(
        *page, "@LUNGMODEL@",
        lung_model.empty() ? std::string() : "<div id=\"lungmodel\">lung model: " + html_escape(lung_model) + "</div>");
    replace_all(*page, "@DATA@", data);
  }
  core::write_file_atomic(path, head + three + tail);
}

}  // namespace xraylift::viz
