"""Pictures and depth maps in: decoding, EXIF orientation and focal length, hashing."""

from .depthfile import RawDepth, read_depth_file
from .hashing import sha256_file
from .image import Picture, load_image, picture_from_array

__all__ = ["Picture", "RawDepth", "load_image", "picture_from_array", "read_depth_file", "sha256_file"]
