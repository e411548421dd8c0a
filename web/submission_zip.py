"""A multi-file submission uploaded as one zip on the problem page (issue 13: several files over
the API, a zip in the form). The files become the submission's ``files``; the entry point is
then chosen as the API chooses it (the file named ``main``, or the one defining ``main``).

Only plain files at the top of the archive, or inside one top folder (a zipped directory), are
taken; dot-files and ``__MACOSX/`` are skipped. Sizes are checked against the members' declared
sizes before anything is read, and each read stops one byte past the cap, so a bomb with lying
headers cannot unpack here.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from web.errors import ApiError
from worker.submit import MAX_FILES

ZIP_MAGIC = b"PK\x03\x04"
_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def is_zip(name: str, raw: bytes) -> bool:
    return name.lower().endswith(".zip") or raw.startswith(ZIP_MAGIC)


def files_from_zip(raw: bytes, max_bytes: int) -> dict[str, str]:
    """name -> text of the archive's files; ApiError (one line) for anything unusable."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except _ERRORS as e:
        raise ApiError(400, f"the archive is not a readable zip: {e}") from None
    with zf:
        infos = [
            i for i in zf.infolist()
            if not i.is_dir() and not i.filename.startswith("__MACOSX/")
            and not PurePosixPath(i.filename).name.startswith(".")
        ]  # fmt: skip
        if not infos:
            raise ApiError(422, "the archive holds no files")
        if len(infos) > MAX_FILES + 1:
            raise ApiError(422, f"at most {MAX_FILES + 1} files in one submission")
        paths = [PurePosixPath(i.filename) for i in infos]
        tops = {p.parts[0] for p in paths if len(p.parts) > 1}
        depth = 2 if len(tops) == 1 and all(len(p.parts) == 2 for p in paths) else 1
        if any(len(p.parts) != depth for p in paths):
            raise ApiError(422, "the archive's files must sit at its top (or in one folder)")
        if sum(i.file_size for i in infos) > max_bytes:
            raise ApiError(413, f"the files are larger than {max_bytes} bytes together")
        files: dict[str, str] = {}
        budget = max_bytes
        for info, path in zip(infos, paths, strict=True):
            try:
                with zf.open(info) as f:
                    data = f.read(budget + 1)
            except _ERRORS as e:
                raise ApiError(400, f"{path.name}: unreadable: {e}") from None
            budget -= len(data)
            if budget < 0:
                raise ApiError(413, f"the files are larger than {max_bytes} bytes together")
            if path.name in files:
                raise ApiError(422, f"{path.name}: twice in the archive")
            try:
                files[path.name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(422, f"{path.name}: not UTF-8 text") from None
    return files
