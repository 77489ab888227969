"""Files: photos, documents, voice and stickers the bot sends; getFile and the file URL."""

from __future__ import annotations

import re
import secrets
import struct
from dataclasses import dataclass

from aiohttp import web

from tests.botapi.records import ApiError, bad_request
from tests.botapi.wire import _envelope_error


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            size = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + size
        return 0, 0
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"BM") and len(data) >= 26:
        return struct.unpack("<ii", data[18:26])
    return None


class Files:
    """Part of BotApiServer (server.py), whose state it uses."""

    def downloads(self) -> list[str]:
        """Paths of the files the bot downloaded (file URL), oldest first."""
        with self._lock:
            return list(self._downloads)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _envelope_error(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        with self._lock:
            data = next((f["data"] for f in self._files.values() if f["path"] == path), None)
            self._downloads.append(path)
        if data is None:
            return _envelope_error(ApiError(404, "Not Found"))
        return web.Response(body=data, content_type="application/octet-stream")

    def _stored_file(self, name: str, params: dict, files: dict) -> tuple[str, dict]:
        """file_id and record for an uploaded part, a known file_id, or a URL."""
        upload = files.get(name)
        if upload is None:
            ref = params.get(name)
            if not ref:
                raise bad_request(f"there is no {name} in the request")
            ref = str(ref)
            if ref.startswith("attach://"):
                upload = files.get(ref.removeprefix("attach://"))
                if upload is None:
                    raise bad_request(f"file {ref} not found in the request")
            elif ref in self._files:
                return ref, self._files[ref]
            elif re.match(r"^https?://", ref):
                upload = _Upload(
                    ref.rsplit("/", 1)[-1] or "file", "application/octet-stream", b"\x00" * 1024
                )
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if not upload.data:
            raise bad_request("file must be non-empty")
        self._seq += 1
        file_id = f"{name[:2].upper()}ACAgUAAx{self._seq:08d}{secrets.token_hex(4)}"
        record = {
            "data": upload.data,
            "unique": f"AgAD{self._seq:06d}",
            "path": f"{name}s/file_{self._seq}",
            "name": upload.filename,
            "mime": upload.content_type,
        }
        self._files[file_id] = record
        return file_id, record

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("photo", params, files)
        size = _image_size(record["data"])
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        fields["photo"] = [
            {
                "file_id": file_id + "_s",
                "file_unique_id": record["unique"] + "s",
                "file_size": max(len(record["data"]) // 10, 1),
                "width": max(width // 4, 1),
                "height": max(height // 4, 1),
            },
            {
                "file_id": file_id,
                "file_unique_id": record["unique"],
                "file_size": len(record["data"]),
                "width": width,
                "height": height,
            },
        ]
        return self._bot_message(chat_id, params, fields)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("document", params, files)
        fields["document"] = {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "file_name": record.get("name") or "document",
            "mime_type": record.get("mime") or "application/octet-stream",
            "file_size": len(record["data"]),
        }
        return self._bot_message(chat_id, params, fields)

    def _api_sendVoice(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("voice", params, files)
        fields["voice"] = {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "duration": int(params.get("duration") or 1),
            "mime_type": "audio/ogg",
            "file_size": len(record["data"]),
        }
        return self._bot_message(chat_id, params, fields)

    def _api_sendSticker(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        file_id, record = self._stored_file("sticker", params, files)
        fields = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": record["unique"],
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "file_size": len(record["data"]),
            }
        }
        return self._bot_message(chat_id, params, fields)

    def _api_getFile(self, params: dict, files: dict) -> dict:
        file_id = str(params.get("file_id", ""))
        record = self._files.get(file_id.removesuffix("_s"))
        if record is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "file_size": record.get("size", len(record["data"])),
            "file_path": record["path"],
        }
