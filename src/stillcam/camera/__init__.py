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
    "EASINGS",
    "MOVES",
    "Camera",
    "CameraPath",
    "Easing",
    "MoveContext",
    "MoveParam",
    "MoveSpec",
    "Keyframe",
    "MoveStep",
    "Segment",
    "Shot",
    "build_path",
    "build_shot_path",
    "parse_move_expression",
    "read_shot_file",
    "write_shot_file",
    "ease",
    "fit_output_camera",
    "frame_count",
    "get_move",
    "look_at",
    "parse_move_params",
    "pose_from",
    "rotation_x",
    "rotation_y",
    "rotation_z",
    "subject_depth",
]
