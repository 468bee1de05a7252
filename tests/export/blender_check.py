"""Run inside Blender (``blender -b --factory-startup --python blender_check.py -- IN.json``):
import a stillcam .glb with Blender's own glTF importer, report the camera's world matrix and
field of view on the frames asked for, and render one frame with Workbench.

IN.json: {"glb": path, "frames": [int], "width": int, "height": int, "fps": int,
"render_frame": int, "render_png": path, "out": path}. Writes {"frames": {frame: {"matrix":
4x4, "angle_y": rad}}, "blender": version} to ``out``.
"""

import json
import sys

import numpy

numpy.bool = bool  # Blender 3.4's glTF importer uses numpy.bool, gone from Debian's numpy

import bpy  # noqa: E402

args = json.loads(open(sys.argv[sys.argv.index("--") + 1]).read())
scene = bpy.context.scene
for obj in list(bpy.data.objects):  # the factory scene's cube, light and camera
    bpy.data.objects.remove(obj, do_unlink=True)
scene.render.fps = args["fps"]
scene.render.fps_base = 1.0
scene.render.resolution_x = args["width"]
scene.render.resolution_y = args["height"]
scene.render.resolution_percentage = 100
bpy.ops.import_scene.gltf(filepath=args["glb"])
cameras = [o for o in bpy.data.objects if o.type == "CAMERA"]
assert len(cameras) == 1, [o.name for o in bpy.data.objects]
camera = cameras[0]
scene.camera = camera
result = {"frames": {}, "blender": bpy.app.version_string}
for frame in args["frames"]:
    scene.frame_set(frame)
    result["frames"][str(frame)] = {
        "matrix": [list(row) for row in camera.matrix_world],
        "angle_y": camera.data.angle_y,
        "sensor_fit": camera.data.sensor_fit,
    }
scene.frame_set(args["render_frame"])
scene.render.engine = "BLENDER_WORKBENCH"
scene.display.shading.light = "FLAT"
scene.display.shading.color_type = "TEXTURE"
scene.display.render_aa = "OFF"
scene.view_settings.view_transform = "Standard"  # no Filmic tone curve: sRGB in, sRGB out
scene.render.film_transparent = False
scene.render.image_settings.file_format = "PNG"
scene.render.filepath = args["render_png"]
bpy.ops.render.render(write_still=True)
with open(args["out"], "w") as out:
    json.dump(result, out)
