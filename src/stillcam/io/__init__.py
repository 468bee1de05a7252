"""Pictures and depth maps in: decoding, EXIF orientation and focal length, hashing."""

from .depthfile import RawDepth, read_depth_file
from .files import check_destination, publish, write_bytes_atomic, write_text_atomic
from .hashing import sha256_file
from .hub import hub_cache, hub_path
from .image import Picture, load_image, picture_from_array

__all__ = [
    "Picture",
    "RawDepth",
    "check_destination",
    "hub_cache",
    "hub_path",
    "load_image",
    "picture_from_array",
    "publish",
    "read_depth_file",
    "sha256_file",
    "write_bytes_atomic",
    "write_text_atomic",
]
