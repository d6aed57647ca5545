"""A multipart/form-data body streamed to disk as it arrives (python-multipart's parser):
the `file` field goes straight into a file, never into memory, and a body over the limit
is refused as soon as it is; the other fields are small strings."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import VsrError

FILE_FIELD = "file"
MAX_FIELD = 64 * 1024  # bytes of a non-file field


class UploadRefused(Exception):
    """`status` (400, 413, or 507 when the disk is full) and one line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None  # as the client sent it (not yet sanitised)
    path: Path | None = None  # where the file was written
    size: int = 0


async def receive_upload(content_type: str, chunks: AsyncIterator[bytes], place: Callable[[str, dict], Path], limit: int) -> Upload:
    """Parse the body; `place(filename, fields)` says where the `file` field is written
    (`fields`: those sent before it; a VsrError it raises refuses the upload). More than
    `limit` bytes in all raises UploadRefused(413); what was written stays for the caller
    to remove."""
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(400, "send the video as multipart/form-data with a field named file")
    upload = Upload()
    part: dict = {}
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, data=bytearray(), out=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        part["headers"][header[0].decode("latin-1").lower()] = header[1]
        header[0], header[1] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part["headers"].get("content-disposition", b""))
        part["name"] = disposition.get(b"name", b"").decode("utf-8", "replace")
        if part["name"] == FILE_FIELD:
            if upload.path is not None:
                raise UploadRefused(400, "send one file per job")
            upload.filename = disposition.get(b"filename", b"").decode("utf-8", "replace")
            upload.path = place(upload.filename, dict(upload.fields))
            part["out"] = open(upload.path, "wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part["out"] is not None:
            part["out"].write(data[start:end])
            upload.size += end - start
        else:
            part["data"] += data[start:end]
            if len(part["data"]) > MAX_FIELD:
                raise UploadRefused(413, f"the field {part['name']} is longer than {MAX_FIELD} bytes")

    def on_part_end() -> None:
        if part["out"] is not None:
            part["out"].close()
            part["out"] = None
        else:
            upload.fields[part["name"]] = part["data"].decode("utf-8", "replace")

    callbacks = {name: fn for name, fn in locals().items() if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise UploadRefused(413, f"the upload is larger than this server's limit of {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except (UploadRefused, VsrError):
        raise
    except OSError as exc:
        raise UploadRefused(507, f"cannot store the upload: {exc.strerror or exc}") from None
    except Exception as exc:  # python-multipart's parse errors
        raise UploadRefused(400, f"the upload is not well-formed multipart/form-data ({exc})") from None
    finally:
        if part.get("out") is not None:
            part["out"].close()
    if upload.path is None:
        raise UploadRefused(400, "the upload has no field named file")
    return upload
