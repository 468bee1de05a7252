"""The OpenGL renderer: moderngl on a headless EGL context (a GPU driver's, or Mesa's
llvmpipe on a CPU), returning the same :class:`Frame` as the other backends.

Same rules as the reference renderer, done by the GPU:

* a geometry shader drops triangles with a vertex nearer than NEAR_CLIP_M and places the rest
  so that pixel centres sit at integer coordinates (OpenCV convention): x_ndc = (x + 0.5) /
  W * 2 - 1, and likewise for y with row 0 at the framebuffer's first row (no flip on
  read-back); clip w = camera z, so varyings are interpolated perspective-correctly (linear
  in 1/z), exactly as the reference does (the fragment shader interpolates them itself);
* the nearest surface wins (GL_LESS on a float32 depth buffer holding 1 - 1/(1 + z)); on
  exact ties the earlier triangle wins (GL processes fragments in primitive order);
* the texture is sampled bilinearly by hand with texelFetch (the hardware's filter weights
  are only 8-bit precise), clamped to the texture like the reference.

* the reference's inclusive edges (a pixel centre within EDGE_EPS_PX of an edge is inside):
  the geometry shader grows every triangle by GROW_PX (GL's fill rule would drop centres lying
  exactly on right and bottom edges, which every cut edge does in the photo's own view and
  every row does in a horizontal move), and the fragment shader computes each pixel centre's
  barycentrics in the original triangle, discards it unless it passes the reference's test,
  and interpolates 1/z, u/z and v/z itself (so growing distorts nothing).

Deviations: vertex positions are float32 on the GPU, so coverage can differ at a few
silhouette pixels.
Soft edges (see-through vertices, ``--soft-edge``) need the second surface the CPU backends
keep; this backend refuses such scenes. Read-back is RGBA float32 (RGB read-back is 3-5x
slower on llvmpipe).
"""

from __future__ import annotations

import numpy as np

from ..camera.camera import Camera
from ..errors import InputError, missing_extra
from ..scene.mesh import Scene
from ..scene.texture import to_float
from .frame import EDGE_EPS_PX, NEAR_CLIP_M, Frame, RenderSettings, downsample

_VERTEX = """
#version 330
uniform mat4 world_to_camera;
in vec3 in_position;
in vec2 in_uv;
out vec3 v_camera;
out vec2 v_uv;
void main() {
    v_camera = (world_to_camera * vec4(in_position, 1.0)).xyz;
    v_uv = in_uv;
    gl_Position = vec4(0.0, 0.0, 0.0, 1.0);
}
"""

_GEOMETRY = """
#version 330
layout(triangles) in;
layout(triangle_strip, max_vertices = 3) out;
uniform vec4 intrinsics;  // fx, fy, cx, cy in pixels
uniform vec2 size;        // width, height in pixels
uniform float near;
uniform float grow;       // pixels: more than the rasteriser's sub-pixel precision
in vec3 v_camera[];
in vec2 v_uv[];
flat out vec2 g_p0;
flat out vec2 g_e1;
flat out vec2 g_e2;
flat out vec3 g_w;   // 1/z of the three vertices
flat out vec3 g_uw;  // u/z
flat out vec3 g_vw;  // v/z
void main() {
    if (min(v_camera[0].z, min(v_camera[1].z, v_camera[2].z)) < near) return;
    vec2 p[3];
    for (int i = 0; i < 3; i++) p[i] = intrinsics.xy * v_camera[i].xy / v_camera[i].z + intrinsics.zw;
    vec2 e1 = p[1] - p[0], e2 = p[2] - p[0];
    if (abs(e1.x * e2.y - e1.y * e2.x) < 1e-12) return;
    for (int i = 0; i < 3; i++) {
        // Grow the triangle on every side so that pixel centres on or just outside an edge
        // reach the fragment shader, which decides coverage exactly (reference rules).
        vec2 d1 = normalize(p[i] - p[(i + 2) % 3]);
        vec2 d2 = normalize(p[i] - p[(i + 1) % 3]);
        vec2 out_dir = d1 + d2;
        float half_sine = 0.5 * length(d1 - d2);
        vec2 pixel = p[i];
        if (length(out_dir) > 1e-6 && half_sine > 1e-6)
            pixel += normalize(out_dir) * min(grow / half_sine, 50.0 * grow);
        vec2 ndc = (pixel + 0.5) / size * 2.0 - 1.0;
        float z = v_camera[i].z;
        gl_Position = vec4(ndc * z, 0.0, z);
        g_p0 = p[0];
        g_e1 = e1;
        g_e2 = e2;
        g_w = vec3(1.0 / v_camera[0].z, 1.0 / v_camera[1].z, 1.0 / v_camera[2].z);
        g_uw = vec3(v_uv[0].x, v_uv[1].x, v_uv[2].x) * g_w;
        g_vw = vec3(v_uv[0].y, v_uv[1].y, v_uv[2].y) * g_w;
        EmitVertex();
    }
    EndPrimitive();
}
"""

_FRAGMENT = """
#version 330
uniform sampler2D tex;
uniform float edge_eps;
flat in vec2 g_p0;
flat in vec2 g_e1;
flat in vec2 g_e2;
flat in vec3 g_w;
flat in vec3 g_uw;
flat in vec3 g_vw;
out vec4 colour;
float cross2(vec2 a, vec2 b) { return a.x * b.y - a.y * b.x; }
vec3 texel(ivec2 p, ivec2 last) { return texelFetch(tex, clamp(p, ivec2(0), last), 0).rgb; }
void main() {
    // Barycentrics of this pixel centre (OpenCV pixel coordinates) in the original triangle,
    // relative to its first vertex so that float32 keeps them exact for small triangles.
    vec2 d = gl_FragCoord.xy - 0.5 - g_p0;
    float area = cross2(g_e1, g_e2);
    float b1 = cross2(d, g_e2) / area;
    float b2 = cross2(g_e1, d) / area;
    float b0 = 1.0 - b1 - b2;
    // The reference's inclusive edges: inside, or within edge_eps pixels of every edge.
    float a = abs(area);
    if (b0 < -edge_eps * length(g_e2 - g_e1) / a || b1 < -edge_eps * length(g_e2) / a
        || b2 < -edge_eps * length(g_e1) / a) discard;
    vec3 b = vec3(b0, b1, b2);
    float w = dot(b, g_w);
    float z = 1.0 / w;
    vec2 uv_raw = vec2(dot(b, g_uw), dot(b, g_vw)) * z;
    ivec2 last = textureSize(tex, 0) - 1;
    vec2 uv = clamp(uv_raw, vec2(0.0), vec2(last));
    ivec2 p = min(ivec2(floor(uv)), max(last - 1, ivec2(0)));
    vec2 f = uv - vec2(p);
    vec3 top = texel(p, last) * (1.0 - f.x) + texel(p + ivec2(1, 0), last) * f.x;
    vec3 bottom = texel(p + ivec2(0, 1), last) * (1.0 - f.x) + texel(p + ivec2(1, 1), last) * f.x;
    colour = vec4(top * (1.0 - f.y) + bottom * f.y, z);
    gl_FragDepth = 1.0 - 1.0 / (1.0 + z);
}
"""

#: How far (pixels) the geometry shader grows triangles before the fragment shader decides
#: coverage: above the sub-pixel precision of GPU rasterisers (8 bits: 1/256 px), so centres
#: lying exactly on an edge (every row of a horizontal move's mesh) are not lost to the fill
#: convention. Measured on Middlebury teddy: growing by EDGE_EPS_PX itself left 2.3 % holes.
GROW_PX = 1.0 / 64.0


def create_context():
    """A headless moderngl context (EGL), or :class:`MissingExtraError` / :class:`InputError`."""
    try:
        import moderngl
    except ImportError:
        raise missing_extra("moderngl", "gl") from None
    try:
        return moderngl.create_standalone_context(backend="egl", require=330)
    except Exception as exc:  # no EGL library, no driver: say how to get one
        raise InputError(
            f"--renderer gl: no headless OpenGL 3.3 context ({exc}); install an EGL driver "
            "(Debian: libegl1 libgl1-mesa-dri libegl-mesa0) or use --renderer cpu"
        ) from None


def is_hardware(context) -> bool:
    """Whether the context runs on a GPU (not Mesa's software rasterisers)."""
    name = context.info.get("GL_RENDERER", "").lower()
    return not any(word in name for word in ("llvmpipe", "softpipe", "swrast", "software"))


class GlRenderer:
    """OpenGL rasteriser on a headless context; scene buffers stay on the device between frames."""

    def __init__(self, settings: RenderSettings | None = None, context=None) -> None:
        self.supersample = (settings or RenderSettings()).supersample
        self.ctx = context if context is not None else create_context()
        self.program = self.ctx.program(
            vertex_shader=_VERTEX, geometry_shader=_GEOMETRY, fragment_shader=_FRAGMENT
        )
        self._scene: Scene | None = None
        self._target: tuple[int, int] | None = None

    def _upload(self, scene: Scene) -> None:
        if self._scene is scene:
            return
        if float(scene.alphas.min(initial=1.0)) < 1.0:
            raise InputError("--renderer gl does not draw soft edges; use --renderer cpu or --soft-edge 0")
        limit = self.ctx.info["GL_MAX_TEXTURE_SIZE"]
        th, tw = scene.texture.shape[:2]
        if max(th, tw) > limit:
            raise InputError(f"--renderer gl: the scene texture is {tw}x{th}, over this driver's {limit} px")
        ctx = self.ctx
        self.vertices = ctx.buffer(np.ascontiguousarray(scene.vertices, np.float32).tobytes())
        self.uvs = ctx.buffer(np.ascontiguousarray(scene.uvs, np.float32).tobytes())
        self.indices = ctx.buffer(np.ascontiguousarray(scene.triangles, np.int32).tobytes())
        self.vao = ctx.vertex_array(
            self.program,
            [(self.vertices, "3f", "in_position"), (self.uvs, "2f", "in_uv")],
            index_buffer=self.indices,
            index_element_size=4,
        )
        self.texture = ctx.texture((tw, th), 3, to_float(scene.texture).tobytes(), dtype="f4")
        self._scene = scene

    def _framebuffer(self, width: int, height: int):
        if self._target != (width, height):
            self.colour = self.ctx.texture((width, height), 4, dtype="f4")
            self.depth = self.ctx.depth_texture((width, height))
            self.fbo = self.ctx.framebuffer(color_attachments=[self.colour], depth_attachment=self.depth)
            self._target = (width, height)
        return self.fbo

    def render(self, scene: Scene, camera: Camera) -> Frame:
        self._upload(scene)
        view = camera.scaled(self.supersample)
        fbo = self._framebuffer(view.width, view.height)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, -1.0, depth=1.0)
        ctx = self.ctx
        ctx.enable(ctx.DEPTH_TEST)
        ctx.depth_func = "<"
        ctx.disable(ctx.CULL_FACE)
        self.program["world_to_camera"].write(np.linalg.inv(view.pose).T.astype(np.float32).tobytes())
        self.program["intrinsics"].value = (view.fx, view.fy, view.cx, view.cy)
        self.program["size"].value = (float(view.width), float(view.height))
        self.program["near"].value = NEAR_CLIP_M
        self.program["edge_eps"].value = EDGE_EPS_PX
        self.program["grow"].value = GROW_PX
        self.texture.use(0)
        self.program["tex"].value = 0
        self.vao.render()
        data = np.frombuffer(fbo.read(components=4, dtype="f4"), np.float32).reshape(
            view.height, view.width, 4
        )
        covered = data[..., 3] > 0.0
        rgb = np.where(covered[..., None], data[..., :3], 0.0).astype(np.float32)
        depth = np.where(covered, data[..., 3], np.inf).astype(np.float32)
        return downsample(Frame(rgb, depth, covered.astype(np.float32)), self.supersample)
