"""Cameras, the move library and camera paths (OpenCV axes; docs/conventions.md)."""

from .camera import Camera, fit_output_camera, look_at, pose_from, rotation_x, rotation_y, rotation_z
from .moves import (
    MOVES,
    MoveContext,
    MoveParam,
    MoveSpec,
    get_move,
    parse_move_params,
    subject_depth,
)
from .path import EASINGS, CameraPath, Easing, ease, frame_count
from .plan import SIZES, ShotSettings, camera_paths, frame_range, parse_size, shot_plan
from .shot import (
    Keyframe,
    MoveStep,
    Segment,
    Shot,
    build_path,
    build_shot_path,
    parse_move_expression,
    read_shot_file,
    write_shot_file,
)

__all__ = [
    "Camera",
    "CameraPath",
    "EASINGS",
    "Easing",
    "Keyframe",
    "MOVES",
    "MoveContext",
    "MoveParam",
    "MoveSpec",
    "MoveStep",
    "SIZES",
    "Segment",
    "Shot",
    "ShotSettings",
    "build_path",
    "build_shot_path",
    "camera_paths",
    "ease",
    "fit_output_camera",
    "frame_count",
    "frame_range",
    "get_move",
    "look_at",
    "parse_move_expression",
    "parse_move_params",
    "parse_size",
    "pose_from",
    "read_shot_file",
    "rotation_x",
    "rotation_y",
    "rotation_z",
    "shot_plan",
    "subject_depth",
    "write_shot_file",
]
