"""`DatasetFiles`: the files of one dataset, read from its folder or from its official zip."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from tfrs_mtl._input_files import InputFileError, file_problem, read_regular_file
from tfrs_mtl.data.errors import DataError

#: The largest zip member read (uncompressed): the official files stay well below.
MAX_MEMBER_BYTES = 2 << 30


class DatasetFiles:
    """Reads a dataset's files by name from a folder or a zip archive.

    A zip may hold the files under one top folder (the official archives do: `ml-1m/...`) or at
    its root. Every failure is a `DataError` naming the file: a missing member, an archive that
    is truncated or corrupt.

    Example:
        >>> files = DatasetFiles(Path("ml-1m.zip"))
        >>> data = files.read_bytes("ratings.dat")
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if self.root.is_dir():
            return
        problem = file_problem(self.root)
        if problem is not None:
            missing = problem == "does not exist"
            raise DataError(
                "no such file or folder" if missing else problem,
                path=self.root,
                expected=None if missing else "the dataset's folder or its zip",
            )
        try:
            self._zip = zipfile.ZipFile(self.root)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise DataError(
                f"not a readable zip archive ({error})",
                path=self.root,
                expected="the dataset's folder or its official, complete zip",
            ) from None
        for member in self._zip.namelist():
            if not member.endswith("/"):
                # The official archives nest one folder deep; index members by base name.
                self._members.setdefault(member.rsplit("/", 1)[-1], member)

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    def display(self, name: str) -> str:
        """How messages name the file: `folder/name` or `archive.zip!member`."""
        if self._zip is not None:
            return f"{self.root}!{self._members.get(name, name)}"
        return str(self.root / name)

    def exists(self, name: str) -> bool:
        if self._zip is not None:
            return name in self._members
        return (self.root / name).is_file()

    def read_bytes(self, name: str) -> bytes:
        """The file's raw bytes; raises `DataError` when it is missing or unreadable."""
        if self._zip is None:
            try:
                return read_regular_file(self.root / name)
            except InputFileError as error:
                missing = error.problem == "does not exist"
                raise DataError(
                    "file not found" if missing else error.problem,
                    path=self.display(name),
                    expected=f"{name!r} in {self.root}" if missing else None,
                ) from None
        if not self.exists(name):
            raise DataError(
                "file not found",
                path=self.display(name),
                expected=f"{name!r} in {self.root}",
            )
        member = self._zip.getinfo(self._members[name])
        if member.file_size > MAX_MEMBER_BYTES:  # a zip bomb, or not a dataset's file
            raise DataError(
                f"zip member of {member.file_size:,} bytes once uncompressed",
                path=self.display(name),
                expected=f"at most {MAX_MEMBER_BYTES:,} bytes (the largest MovieLens file is "
                "under 1 GB)",
            )
        try:
            return self._zip.read(self._members[name])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise DataError(
                f"corrupt or truncated zip member ({error})",
                path=self.display(name),
                expected="an intact archive (download it again)",
            ) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> DatasetFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
