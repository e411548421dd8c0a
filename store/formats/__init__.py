"""Problem packages in and out: one importer per format behind one interface.

Each format module has ``NAME``, ``detect(root: Path) -> bool`` and ``load(root: Path) ->
dict`` (the problem JSON of docs/problem-format.md, not yet validated). :func:`load_path`
and :func:`load_zip` try them in order: Polygon (``problem.xml``), ICPC (``problem.yaml``),
then our own (``problem.json``). A zip is unpacked into a private temporary directory first,
refusing what could escape it or fill the disk (zip slip, absolute paths, bombs); symbolic links
are followed only where they resolve inside the package, as in a directory, so every importer
reads plain files under one root.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from store.problems import MAX_ARCHIVE_BYTES, ArchiveTooLarge, ProblemError

# One bound for every zip route (ours and packages): a zip bomb stops here, not at the disk.
MAX_UNPACKED_BYTES = MAX_ARCHIVE_BYTES
MAX_FILES = 100_000
# A member whose name or data cannot be read: all mean a damaged archive.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _formats() -> tuple[ModuleType, ...]:
    from store.formats import icpc, native, polygon

    return (polygon, icpc, native)


def detect(root: Path) -> ModuleType:
    """The format module of the package at ``root``; ProblemError when none recognises it."""
    for fmt in _formats():
        if fmt.detect(root):
            return fmt
    raise ProblemError(
        "not a problem package: no problem.xml (Polygon), problem.yaml (ICPC) or problem.json"
    )


def load_path(path: str | Path) -> dict[str, Any]:
    """The problem mapping of a package directory or zip file."""
    p = Path(path)
    if p.is_dir():
        return load_directory(p)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ProblemError(f"cannot read {p}: {e.strerror}") from None
    return load_zip(data)


def load_directory(root: Path) -> dict[str, Any]:
    root = _package_root(root)
    if not _has_links(root):
        return dict(detect(root).load(root))
    # Packages share files by symbolic links (problemtools' oddecho reuses tests across
    # groups, DOMjudge links one submission into two folders): the importers read a copy in
    # which each link inside the package is the file it points to.
    with tempfile.TemporaryDirectory(prefix="judge-linked-") as tmp:
        copy = Path(tmp) / root.name  # the directory's name may be the problem's
        notes = _resolve_links(root, copy)
        data = dict(detect(copy).load(copy))
    if notes:
        package = dict(data.get("package") or {})
        package["skipped"] = [*package.get("skipped", []), *notes]
        data["package"] = package
    return data


def _has_links(root: Path) -> bool:
    for _dirpath, dirnames, filenames in os.walk(root):
        here = Path(_dirpath)
        if any((here / n).is_symlink() for n in (*dirnames, *filenames)):
            return True
    return False


def _resolve_links(root: Path, dest: Path) -> list[str]:
    """Copy ``root`` to ``dest`` with every symbolic link that resolves to a file or directory
    inside ``root`` replaced by a copy of it; a link leaving the package (or dangling) is left
    out and named in the notes. At most MAX_UNPACKED_BYTES and MAX_FILES are copied, so links
    that multiply a tree cannot fill the disk."""
    top = root.resolve()
    notes: list[str] = []
    budget = {"bytes": MAX_UNPACKED_BYTES, "files": MAX_FILES}

    def inside(p: Path) -> Path | None:
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling, or a loop of links
            return None
        return target if target == top or top in target.parents else None

    def copy_file(src: Path, to: Path) -> None:
        budget["files"] -= 1
        budget["bytes"] -= src.stat().st_size
        if budget["files"] < 0 or budget["bytes"] < 0:
            raise ArchiveTooLarge(
                f"package with its links resolved is larger than {MAX_UNPACKED_BYTES >> 20} MiB"
            )
        shutil.copyfile(src, to)
        if src.stat().st_mode & 0o111:
            os.chmod(to, 0o755)

    def copy_dir(src: Path, to: Path, seen: frozenset[Path]) -> None:
        to.mkdir(parents=True, exist_ok=True)
        for entry in sorted(src.iterdir()):
            name = entry.relative_to(src)
            target: Path | None = entry
            if entry.is_symlink():
                target = inside(entry)
                if target is None:
                    rel = (to / name).relative_to(dest).as_posix()
                    notes.append(f"{rel}: a symbolic link out of the package is not followed")
                    continue
            assert target is not None
            if target.is_dir():
                real = target.resolve()
                if real in seen:  # a link to a directory that holds it
                    rel = (to / name).relative_to(dest).as_posix()
                    notes.append(f"{rel}: a symbolic link into itself is not followed")
                    continue
                copy_dir(target, to / name, seen | {real})
            elif target.is_file():
                copy_file(target, to / name)

    copy_dir(root, dest, frozenset({top}))
    return notes


def load_zip(data: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="judge-package-") as tmp:
        root = Path(tmp)
        unpack_zip(data, root)
        return load_directory(root)


def _package_root(root: Path) -> Path:
    """A package zipped with its folder has one directory at the top: look inside it."""
    if any(_has_marker(root)):
        return root
    entries = [e for e in root.iterdir() if not e.name.startswith(".") and e.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return root


def _has_marker(root: Path) -> list[bool]:
    return [(root / m).is_file() for m in ("problem.xml", "problem.yaml", "problem.json")]


def unpack_zip(data: bytes, dest: Path) -> None:
    """Unpack into ``dest``, refusing anything that could leave it or exhaust the disk."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as e:
        raise ProblemError(f"not a zip archive: {e}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise ProblemError(f"archive holds more than {MAX_FILES} entries")
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise ArchiveTooLarge(f"archive unpacks to more than {MAX_UNPACKED_BYTES >> 20} MiB")
        written = 0
        links: list[tuple[Path, str]] = []
        for info in infos:
            rel = _safe_name(info.filename)
            mode = info.external_attr >> 16
            target = dest.joinpath(*rel.parts) if rel.parts else dest
            if stat.S_ISLNK(mode):
                links.append((target, _link_text(zf, info)))
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # The declared size can lie: count what really comes out.
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:
                            raise ArchiveTooLarge(
                                f"archive unpacks to more than {MAX_UNPACKED_BYTES >> 20} MiB"
                            )
                        out.write(chunk)
            except FileExistsError:
                raise ProblemError(f"{info.filename}: appears twice in the archive") from None
            except _ZIP_ERRORS as e:
                raise ProblemError(f"damaged zip archive: {info.filename}: {e}") from None
            if mode & 0o111:
                os.chmod(target, 0o755)
        # Links are made only once every file is written, so nothing is ever written through
        # one (a link "d" -> /etc followed by a member "d/x" would otherwise land outside).
        # load_directory then follows only those that resolve inside the package, as for a
        # directory; one pointing out of it is left out and named.
        for target, text in links:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.symlink(text, target)
            except FileExistsError:
                raise ProblemError(f"{target.relative_to(dest)}: appears twice in the archive") from None


_MAX_LINK = 4096  # PATH_MAX: a longer "target" is not a link git or zip would write


def _link_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A symbolic link member's target (its data, as git archive and zip -y store it)."""
    try:
        with zf.open(info) as src:
            raw = src.read(_MAX_LINK + 1)
    except _ZIP_ERRORS as e:
        raise ProblemError(f"damaged zip archive: {info.filename}: {e}") from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        text = ""
    if not text or len(raw) > _MAX_LINK or "\0" in text:
        raise ProblemError(f"{info.filename}: not a valid symbolic link")
    return text


def _safe_name(name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise ProblemError(f"{name}: a path outside the archive is not accepted")
    return PurePosixPath(*[part for part in p.parts if part not in ("", ".")])


def copy_tree(src: Path, dest: Path) -> None:
    """Copy a package directory without following symlinks (they are skipped)."""
    shutil.copytree(src, dest, symlinks=True, ignore_dangling_symlinks=True)
