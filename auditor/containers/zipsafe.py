"""A zip reader that sees what Android sees, for hostile APKs, without extracting anything.

Malware tampers with zip structure so that analysers (Python's zipfile, apktool, jadx) read
something different from the device, or nothing at all. This reader follows the platform
(libziparchive, libandroidfw, the v1 JAR verifier) instead of the zip specification, refuses
bombs while streaming, and records every oddity as a `ZipAnomaly` rather than failing.

Decisions, each checked against the platform's sources:

* The central directory decides method, sizes, CRC and offsets, as in libziparchive. The local
  header only supplies its name and extra-field lengths (to find the data); any difference from
  the central directory is a "local-header-mismatch" (BadPack-style evasion).
* Unknown compression methods (not 0 or 8): the platform disagrees with itself. libandroidfw,
  which loads AndroidManifest.xml and resources, reads every non-deflate entry as stored;
  the v1 signature verifier reads every non-stored entry as deflate; ART refuses such a dex.
  So an unknown-method entry is read as deflate when that yields a complete stream of the
  declared size (weird_compression_method.apk: CERT.RSA, method 21), else as stored when the
  two sizes agree (badpack_deflate_mod.apk: AndroidManifest.xml, method 30208), and otherwise
  raises CorruptArchive. Only reading that entry fails; "unknown-compression" is recorded.
* Stored entries are read with their uncompressed size, as every platform path does, so data
  marked stored but really deflated comes back raw (it is equally useless on a device); the size
  disagreement ("stored-size-mismatch") and the CRC failure ("bad-crc") are recorded.
* Duplicate names: the first entry wins. Current Android refuses such archives outright, but
  before the Master Key fix (CVE-2013-4787) the native loader, which runs the code, took the
  first one while the Java verifier took the last; the first is the one that would execute.
* Names are the UTF-8 bytes Android compares (aapt never sets the UTF-8 flag, so cp437 would
  garble legitimate names); bytes that are not UTF-8, which Android rejects, are decoded as
  cp437 (or UTF-8 with replacement when flag bit 11 is set) and recorded.
* The encryption flag is ignored by libziparchive, so "pseudo-encrypted" APKs run on devices
  while most tools refuse them. An entry with the flag is read as plain data; only when that
  data fails to decode or to match its CRC is it really encrypted, and reading raises.
* CRCs are not checked by Android (kCrcChecksEnabled is false); a mismatch is only recorded.
* A central directory that cannot be fully read (Android would refuse the whole file) falls
  back to walking local headers, so truncated or doctored archives still yield their dex.
* Bytes before the first entry (Janus, CVE-2017-13156) are recorded; offsets are corrected the
  way zipfile does when the whole archive was shifted without updating them.
"""

from __future__ import annotations

import bisect
import itertools
import re
import struct
import zlib

from auditor import deflate
from auditor.errors import AuditorError, CorruptArchive, LimitExceeded, NotAnAndroidPackage
from auditor.limits import Limits, MiB
from auditor.records import record

STORED = 0
DEFLATED = 8
FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_UTF8 = 0x0800

_LFH = struct.Struct("<IHHHHHIIIHH")
_CDR = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_LOCATOR = struct.Struct("<IIQI")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_EXTRA_HEADER = struct.Struct("<HH")
_DESCRIPTOR32 = struct.Struct("<IIII")
_DESCRIPTOR64 = struct.Struct("<IIQQ")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

_LFH_SIG = 0x04034B50
_CDR_SIG = 0x02014B50
_LOCATOR_SIG = 0x07064B50
_EOCD64_SIG = 0x06064B50
_MAX16 = 0xFFFF
_MAX32 = 0xFFFFFFFF
_ZIP64_EXTRA_ID = 0x0001

_LFH_PATTERN = re.compile(b"PK\x03\x04")
_HEADER_PATTERN = re.compile(b"PK\x03\x04|PK\x01\x02")
_DESCRIPTOR_PATTERN = re.compile(b"PK\x07\x08")
_EOCD_PATTERN = re.compile(b"PK\x05\x06")

_RATIO_GRACE = 1 * MiB
"""Output below this is never refused for its ratio: small, very repetitive files are normal."""
_Z_MEM_ERROR = -4
"""zlib's Z_MEM_ERROR (the zlib module exports no name for it)."""
_IN_CHUNK = 256 * 1024
_OUT_CHUNK = 1 * MiB
"""Most output one bounded step may produce, so a bomb is caught within about one step (the one call
that inflates an honest entry whole stops at its declared size, within the limits)."""

_PREFIX_KINDS = (
    (b"dex\n", "a dex file: the Janus CVE-2017-13156 pattern"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF binary"),
    (b"PK\x03\x04", "another zip archive"),
)


@record(slots=True)
class ZipAnomaly:
    """One sign of tampering or damage; `kind` is a stable id, `detail` one line of evidence."""

    kind: str
    detail: str


@record(frozen=False, slots=True)
class UnpackBudget:
    """Bytes unpacked so far from one input, shared by the archives nested in it (mutable on purpose)."""

    used: int = 0


@record(slots=True)
class ZipEntry:
    """An entry as the central directory (or, when recovered, its local header) describes it.

    `header_offset` is the real position of the local header in the input, after any
    correction for prepended data.
    """

    name: str
    method: int
    compressed_size: int
    uncompressed_size: int
    crc: int
    header_offset: int
    flags: int


@record(slots=True)
class _Slot:
    """Where an entry's data lies; `problem` says why it cannot be read (Android fails too)."""

    entry: ZipEntry
    data_start: int
    problem: str | None = None


@record(slots=True)
class _Directory:
    """What the end records claim, and where the central directory must actually end."""

    count: int
    size: int
    offset: int
    end: int


@record(slots=True)
class _Guard:
    """The ceilings one read must stay under, with the message naming the one that applies."""

    label: str
    """Which entry of which input, for messages: "base.apk: entry 'classes.dex'"."""
    cap: int
    cap_message: str
    cap_limit: str
    """The option behind `cap` ("--max-dex", "--max-unpacked")."""
    max_ratio: int

    def over_cap(self) -> LimitExceeded:
        return LimitExceeded(self.cap_message, self.cap_limit)

    def check(self, produced: int, consumed: int) -> None:
        """Refuse as soon as the output passes the cap or expands suspiciously fast."""
        if produced > self.cap:
            raise self.over_cap()
        if produced > _RATIO_GRACE and produced > self.max_ratio * consumed:
            raise LimitExceeded(
                f"{self.label} expands more than {self.max_ratio}x its compressed size (limit --max-ratio={self.max_ratio})",
                "--max-ratio")


def _stored_span(entry: ZipEntry) -> int:
    """Bytes of the file an entry's data occupies: Android reads stored entries by their
    uncompressed size and everything else by their compressed size."""
    return entry.uncompressed_size if entry.method == STORED else entry.compressed_size


def _extra_block(extra: memoryview, block_id: int) -> memoryview | None:
    """The body of the first extra-field block with this id, if the field holds one."""
    pos = 0
    while pos + _EXTRA_HEADER.size <= len(extra):
        found_id, size = _EXTRA_HEADER.unpack_from(extra, pos)
        if found_id == block_id:
            return extra[pos + _EXTRA_HEADER.size : pos + _EXTRA_HEADER.size + size]
        pos += _EXTRA_HEADER.size + size
    return None


def _zip64_values(extra: memoryview, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Replace saturated 32-bit fields by their zip64 values. Like libziparchive, a complete
    24-byte block is read in full even for fields that were not saturated (Go writes them)."""
    body = _extra_block(extra, _ZIP64_EXTRA_ID)
    values = [usize, csize, offset]
    if body is None:
        return usize, csize, offset
    pos = 0
    for index, value in enumerate(values):
        if (value == _MAX32 or len(body) >= 24) and pos + 8 <= len(body):
            values[index] = _U64.unpack_from(body, pos)[0]
            pos += 8
    return values[0], values[1], values[2]


def _is_suspicious_path(name: str) -> bool:
    """Absolute paths, drive letters and parent references: harmless to us, telling of intent."""
    if name.startswith(("/", "\\")) or name[1:2] == ":":
        return True
    return ".." in name and ".." in name.replace("\\", "/").split("/")


def _describe_prefix(head: bytes) -> str:
    """Name what prepended data looks like, when it is recognisable."""
    for magic, what in _PREFIX_KINDS:
        if head.startswith(magic):
            return f" ({what})"
    return ""


def _inflate(raw: memoryview, guard: _Guard, declared: int) -> tuple[bytes, bool]:
    """Inflate a raw deflate stream under `guard`; returns the data and whether the stream ended
    properly. An entry whose declared size the bounded steps could not refuse is inflated in one
    call (no pieces to join, zlib-ng where installed) and kept when it ends within that size: the
    result the steps give, as they would stop at no limit on the way. Every other outcome is
    decoded again in the bounded steps, which name the limit or the damage."""
    if _steps_would_pass(raw, guard, declared):
        data = deflate.inflate_whole(raw, declared)
        if data is not None:
            return data, True
    return _inflate_in_steps(raw, guard)


def _steps_would_pass(raw: memoryview, guard: _Guard, declared: int) -> bool:
    """Whether _inflate_in_steps, given a stream that inflates to at most `declared` bytes, would stop
    at no limit. The cap cannot stop it (`declared` is within it), nor the ratio while the output is
    within _RATIO_GRACE; past that, a step stops only where its output exceeds `max_ratio` times the
    input consumed so far, so only while that input is less than `need` = declared / max_ratio. A
    probe that inflates exactly the first `need` bytes to less than _RATIO_GRACE proves that no step
    gets there: any output beyond the probe's needs input beyond those bytes. Cheap: `need` is
    1/max_ratio of the declared size (35 KB of a 7 MB dex)."""
    if declared > guard.cap or guard.max_ratio < 1:
        return False
    need = -(-declared // guard.max_ratio)
    if need > len(raw):
        return False  # declared beyond the ratio limit: the steps decide
    probe = zlib.decompressobj(-15)
    try:
        head = probe.decompress(raw[:need], _RATIO_GRACE)
    except (zlib.error, MemoryError):
        return False  # the steps meet it too, and report it
    return len(head) < _RATIO_GRACE and not probe.eof and not probe.unconsumed_tail


def _inflate_in_steps(raw: memoryview, guard: _Guard) -> tuple[bytes, bool]:
    """Output is produced in bounded steps so a bomb costs about one step."""
    inflater = zlib.decompressobj(-15)
    pieces: list[bytes] = []
    produced = fed = 0
    try:
        while not inflater.eof:
            chunk: bytes | memoryview = inflater.unconsumed_tail
            if not chunk:
                chunk = raw[fed : fed + _IN_CHUNK]
                fed += len(chunk)
            piece = inflater.decompress(chunk, _OUT_CHUNK)
            if not piece and not chunk:
                break
            pieces.append(piece)
            produced += len(piece)
            guard.check(produced, fed - len(inflater.unconsumed_tail))
        return b"".join(pieces), inflater.eof
    except MemoryError:
        pieces.clear()
        raise LimitExceeded(f"{guard.label}: ran out of memory after unpacking {produced} bytes (limit --max-memory)",
                            "--max-memory") from None
    except zlib.error as error:
        raise _deflate_error(guard.label, error) from None


def _deflate_error(label: str, error: zlib.error) -> AuditorError:
    """zlib reports running out of memory (Z_MEM_ERROR) as a zlib.error, like bad data; that
    must not become a corrupt-archive verdict, which would be cached."""
    if str(error).startswith(f"Error {_Z_MEM_ERROR} "):
        return LimitExceeded(f"{label}: zlib ran out of memory (limit --max-memory)", "--max-memory")
    return CorruptArchive(f"{label} is not valid deflate data ({error})")


class _Parser:
    """Builds the entry list of one archive, noting anomalies on the way."""

    def __init__(self, view: memoryview, limits: Limits, where: str) -> None:
        self.view = view
        self.limits = limits
        self.where = where
        self.anomalies: list[ZipAnomaly] = []
        self.shift = 0

    def note(self, kind: str, detail: str) -> None:
        self.anomalies.append(ZipAnomaly(kind, detail))

    def parse(self) -> dict[str, _Slot]:
        eocd = self._find_eocd()
        if eocd is not None:
            slots = self._from_directory(eocd)
        elif self._u32_at(0) == _LFH_SIG:
            slots = self._recover([], "no end-of-central-directory record")
        else:
            head = bytes(self.view[:16])
            raise NotAnAndroidPackage(f"{self.where}not a zip archive (no end-of-central-directory record; starts with {head!r})")
        self._check_prefix(slots)
        self._check_overlaps(slots)
        return self._index(slots)

    def _u32_at(self, pos: int) -> int:
        """The 32-bit value at `pos`, or -1 when it lies outside the input."""
        if 0 <= pos <= len(self.view) - 4:
            value: int = _U32.unpack_from(self.view, pos)[0]
            return value
        return -1

    def _find_eocd(self) -> int | None:
        """The end record Android would pick: the last one whose comment reaches the end of
        the file. Failing that, the last one at all, with the trailing bytes recorded."""
        size = len(self.view)
        low = max(0, size - _EOCD.size - _MAX16)
        found = [m.start() for m in _EOCD_PATTERN.finditer(self.view, low)]
        found = [pos for pos in found if pos + _EOCD.size <= size]
        for pos in reversed(found):
            if pos + _EOCD.size + self._comment_length(pos) == size:
                return pos
        if not found:
            return None
        pos = found[-1]
        self.note(
            "data-after-zip",
            f"end record at {pos} declares a {self._comment_length(pos)}-byte comment but "
            f"{size - pos - _EOCD.size} bytes follow it (Android refuses such files)",
        )
        return pos

    def _comment_length(self, eocd: int) -> int:
        length: int = _EOCD.unpack_from(self.view, eocd)[7]
        return length

    def _from_directory(self, eocd: int) -> list[_Slot]:
        directory = self._directory(eocd)
        if directory is None:
            return self._recover([], "zip64 end records are missing or damaged")
        self._check_count(directory.count)
        located = self._locate_directory(directory)
        if located is None:
            reason = f"no central directory at offset {directory.offset}"
            return self._recover([], reason)
        start, self.shift = located
        slots, end = self._read_records(start, self.shift, directory)
        if len(slots) < directory.count:
            reason = f"central directory holds {len(slots)} of {directory.count} entries"
            return self._recover(slots, reason)
        if self._u32_at(end) == _CDR_SIG and end < directory.end:
            self.note(
                "entry-count-mismatch",
                f"central directory has records beyond the {directory.count} the end record "
                "counts (hidden from Android, visible to other tools)",
            )
        return slots

    def _directory(self, eocd: int) -> _Directory | None:
        fields = _EOCD.unpack_from(self.view, eocd)
        count, size, offset = fields[4], fields[5], fields[6]
        if count == _MAX16 or _MAX32 in (size, offset):
            return self._directory64(eocd)
        return _Directory(count, size, offset, eocd)

    def _directory64(self, eocd: int) -> _Directory | None:
        """Read the zip64 end record through its locator, which sits right before the end
        record; the record itself is looked for where the locator says, then right before it."""
        locator = eocd - _LOCATOR.size
        if self._u32_at(locator) != _LOCATOR_SIG:
            return None
        record_offset = _LOCATOR.unpack_from(self.view, locator)[2]
        latest = locator - _EOCD64.size
        for pos in (record_offset, latest):
            if 0 <= pos <= latest and self._u32_at(pos) == _EOCD64_SIG:
                fields = _EOCD64.unpack_from(self.view, pos)
                return _Directory(fields[7], fields[8], fields[9], pos)
        return None

    def _check_count(self, count: int) -> None:
        if count > self.limits.max_entries:
            raise LimitExceeded(f"{self.where}archive has {count} entries (limit --max-entries={self.limits.max_entries})",
                                "--max-entries")

    def _locate_directory(self, directory: _Directory) -> tuple[int, int] | None:
        """Find the central directory and the shift to apply to every offset. As in zipfile,
        a directory ending before the end record means the archive was moved by that much;
        the unshifted position is also tried, in case the gap is junk after the directory."""
        shift = directory.end - directory.size - directory.offset
        for candidate in (shift, 0) if shift > 0 else (0,):
            start = directory.offset + candidate
            if directory.count == 0 or self._u32_at(start) == _CDR_SIG:
                return start, candidate
        return None

    def _read_records(self, start: int, shift: int, directory: _Directory) -> tuple[list[_Slot], int]:
        """Read up to the declared number of records, stopping at the first damaged one."""
        slots: list[_Slot] = []
        pos = start
        for _ in range(directory.count):
            record = self._read_record(pos, directory.end, shift)
            if record is None:
                break
            slot, pos = record
            slots.append(slot)
        return slots, pos

    def _read_record(self, pos: int, limit: int, shift: int) -> tuple[_Slot, int] | None:
        """Parse one central-directory record that must end by `limit`."""
        if pos + _CDR.size > limit:
            return None
        fields = _CDR.unpack_from(self.view, pos)
        flags, method, crc, csize, usize = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_end = pos + _CDR.size + fields[10]
        extra_end = name_end + fields[11]
        end = extra_end + fields[12]
        if fields[0] != _CDR_SIG or end > limit:
            return None
        raw_name = bytes(self.view[pos + _CDR.size : name_end])
        offset = fields[16]
        if _MAX32 in (csize, usize, offset):
            extra = self.view[name_end:extra_end]
            usize, csize, offset = _zip64_values(extra, usize, csize, offset)
        name = self._decode_name(raw_name, flags)
        entry = ZipEntry(name, method, csize, usize, crc, offset + shift, flags)
        return self._place(entry, raw_name), end

    def _decode_name(self, raw: bytes, flags: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("utf-8" if flags & FLAG_UTF8 else "cp437", errors="replace")
            self.note(
                "invalid-name-encoding",
                f"entry {name!r} has a name that is not UTF-8 (Android refuses the archive)",
            )
            return name

    def _check_entry(self, entry: ZipEntry) -> None:
        """Anomalies visible from one entry's own fields."""
        name = entry.name
        if entry.flags & FLAG_ENCRYPTED:
            self.note(
                "encrypted-entry",
                f"entry {name!r} has the encryption flag set (Android ignores the flag)",
            )
        if entry.method not in (STORED, DEFLATED):
            self.note(
                "unknown-compression",
                f"entry {name!r} declares compression method {entry.method}",
            )
        elif entry.method == STORED and entry.compressed_size != entry.uncompressed_size:
            self.note(
                "stored-size-mismatch",
                f"entry {name!r} is stored but its sizes differ "
                f"({entry.compressed_size} compressed, {entry.uncompressed_size} uncompressed)",
            )
        if "\x00" in name:
            self.note("nul-in-name", f"entry {name!r} has a NUL byte in its name")
        if _is_suspicious_path(name):
            self.note("suspicious-path", f"entry {name!r} is absolute or climbs out of the root")

    def _place(self, entry: ZipEntry, raw_name: bytes) -> _Slot:
        """Find a central-directory entry's data through its local header."""
        self._check_entry(entry)
        pos = entry.header_offset
        local = _LFH.unpack_from(self.view, pos) if pos + _LFH.size <= len(self.view) else ()
        if not local or local[0] != _LFH_SIG:
            return self._broken("bad-local-header", entry, -1, f"no local header at offset {pos}")
        data_start = pos + _LFH.size + local[9] + local[10]
        self._compare_local(entry, raw_name, local)
        return self._bounded(entry, data_start)

    def _bounded(self, entry: ZipEntry, data_start: int) -> _Slot:
        end = data_start + _stored_span(entry)
        if end > len(self.view):
            problem = f"data ends at {end}, past the end of the file ({len(self.view)} bytes)"
            return self._broken("truncated-entry", entry, data_start, problem)
        return _Slot(entry, data_start)

    def _broken(self, kind: str, entry: ZipEntry, data_start: int, problem: str) -> _Slot:
        self.note(kind, f"entry {entry.name!r}: {problem}")
        return _Slot(entry, data_start, problem)

    def _compare_local(self, entry: ZipEntry, raw_name: bytes, local: tuple[int, ...]) -> None:
        """Record where the local header disagrees with the central directory. Sizes and CRC
        are only compared when the local header does not defer them to a data descriptor."""
        flags, method, crc, csize, usize, name_len, extra_len = local[2:4] + local[6:]
        name_start = entry.header_offset + _LFH.size
        local_name = bytes(self.view[name_start : name_start + name_len])
        differences = []
        if local_name != raw_name:
            differences.append(f"name {local_name!r}")
        if method != entry.method:
            differences.append(f"method {method}")
        if (flags ^ entry.flags) & FLAG_ENCRYPTED:
            differences.append(f"flags {flags:#06x}")
        if not flags & FLAG_DATA_DESCRIPTOR:
            if csize == usize == _MAX32:
                extra = self.view[name_start + name_len : name_start + name_len + extra_len]
                usize, csize, _ = _zip64_values(extra, usize, csize, 0)
            if (crc, csize, usize) != (entry.crc, entry.compressed_size, entry.uncompressed_size):
                differences.append(f"crc {crc:#010x}, sizes {csize}/{usize}")
        if differences:
            self.note(
                "local-header-mismatch",
                f"entry {entry.name!r}: local header says {'; '.join(differences)} (central directory used)",
            )

    def _recover(self, slots: list[_Slot], reason: str) -> list[_Slot]:
        """Complete a damaged directory with entries found by walking local headers."""
        self.note("truncated-central-directory", f"{reason}; entries recovered from local headers")
        known = {slot.entry.header_offset: slot for slot in slots if slot.data_start >= 0}
        found = self._scan_local_headers(known)
        if not slots and not found:
            raise CorruptArchive(f"{self.where}{reason} and no readable local header")
        return slots + found

    def _scan_local_headers(self, known: dict[int, _Slot]) -> list[_Slot]:
        """Walk local headers from the first one, returning entries not already `known`
        (by header offset) from the central directory, whose fields are the better ones."""
        found: list[_Slot] = []
        match = _LFH_PATTERN.search(self.view)
        pos = match.start() if match else -1
        while pos >= 0:
            slot = known.get(pos)
            if slot is None:
                self._check_count(len(known) + len(found) + 1)
                slot = self._scan_entry(pos)
                if slot is None:
                    break
                found.append(slot)
            pos = self._next_local_header(slot)
        return found

    def _scan_entry(self, pos: int) -> _Slot | None:
        """Describe the entry whose local header is at `pos`, from that header alone."""
        if pos + _LFH.size > len(self.view):
            return None
        _, _, flags, method, _, _, crc, csize, usize, name_len, extra_len = _LFH.unpack_from(self.view, pos)
        name_end = pos + _LFH.size + name_len
        data_start = name_end + extra_len
        if data_start > len(self.view):
            return None
        if csize == usize == _MAX32:
            usize, csize, _ = _zip64_values(self.view[name_end:data_start], usize, csize, 0)
        if flags & FLAG_DATA_DESCRIPTOR:
            crc, csize, usize = self._descriptor(data_start)
        raw_name = bytes(self.view[pos + _LFH.size : name_end])
        entry = ZipEntry(self._decode_name(raw_name, flags), method, csize, usize, crc, pos, flags)
        self._check_entry(entry)
        return self._bounded(entry, data_start)

    def _descriptor(self, data_start: int) -> tuple[int, int, int]:
        """CRC and sizes from the data descriptor that follows the data: the first signed
        descriptor whose compressed size matches its distance from the data. Without one,
        the data is taken to run to the next header, with unknown CRC and size (zero)."""
        following = _HEADER_PATTERN.search(self.view, data_start)
        stop = following.start() if following else len(self.view)
        for match in _DESCRIPTOR_PATTERN.finditer(self.view, data_start, stop):
            pos, span = match.start(), match.start() - data_start
            if pos + _DESCRIPTOR32.size <= stop:
                _, crc, csize, usize = _DESCRIPTOR32.unpack_from(self.view, pos)
                if csize == span:
                    return crc, csize, usize
            if pos + _DESCRIPTOR64.size <= stop:
                _, crc, csize, usize = _DESCRIPTOR64.unpack_from(self.view, pos)
                if csize == span:
                    return crc, csize, usize
        return 0, stop - data_start, 0

    def _next_local_header(self, slot: _Slot) -> int:
        """The next local header: right after this entry's data (and descriptor) when one is
        there, otherwise the next signature after the data start, in case sizes lie."""
        end = len(self.view)
        after = min(slot.data_start + _stored_span(slot.entry), end)  # a zip64 size may claim 2**64 bytes
        window = min(after + _DESCRIPTOR64.size + 4, end)
        match = _LFH_PATTERN.search(self.view, after, window) or _LFH_PATTERN.search(self.view, slot.data_start)
        return match.start() if match else -1

    def _check_prefix(self, slots: list[_Slot]) -> None:
        """Record bytes before the first entry: Android refuses them since the Janus fix, but
        older devices ran a dex prepended to a validly signed APK."""
        offsets = [slot.entry.header_offset for slot in slots if slot.data_start >= 0]
        first = min(offsets, default=0)
        if self._skip_virtual_entries(first) < first:
            head = bytes(self.view[: min(first, 16)])
            moved = f"; directory offsets corrected by {self.shift}" if self.shift else ""
            self.note(
                "data-before-zip",
                f"{first} bytes precede the first local header, starting {head!r}{_describe_prefix(head)}{moved}",
            )

    def _skip_virtual_entries(self, first: int) -> int:
        """Skip the nameless, empty local headers that AGP's zipflinger writes as padding
        before the first listed entry; they are legitimate and Android accepts them."""
        pos = 0
        while pos < first and self._u32_at(pos) == _LFH_SIG and pos + _LFH.size <= first:
            fields = _LFH.unpack_from(self.view, pos)
            if fields[7] != 0 or fields[9] != 0:
                break
            pos += _LFH.size + fields[10]
        return pos

    def _check_overlaps(self, slots: list[_Slot]) -> None:
        """Entries sharing bytes: overlap bombs and parser-confusion tricks."""
        placed = sorted(
            (slot for slot in slots if slot.data_start >= 0),
            key=lambda slot: slot.entry.header_offset,
        )
        for first, second in itertools.pairwise(placed):
            if first.data_start + _stored_span(first.entry) > second.entry.header_offset:
                self.note(
                    "overlapping-entries",
                    f"entry {first.entry.name!r} overlaps entry {second.entry.name!r}",
                )

    def _index(self, slots: list[_Slot]) -> dict[str, _Slot]:
        """Map names to entries, the first of duplicates winning (see the module docstring)."""
        index: dict[str, _Slot] = {}
        for slot in slots:
            name = slot.entry.name
            if name in index:
                self.note(
                    "duplicate-entry",
                    f"entry {name!r} appears again at offset {slot.entry.header_offset}; the "
                    f"first, at {index[name].entry.header_offset}, is used",
                )
            else:
                index[name] = slot
        self._check_collisions(sorted(index))
        return index

    def _check_collisions(self, names: list[str]) -> None:
        """Record files that are also used as directories ("AndroidManifest.xml/x"), which
        make extracting tools overwrite or skip one of them."""
        for name in names:
            if name.endswith("/"):
                continue
            below = name + "/"
            index = bisect.bisect_left(names, below)
            if index < len(names) and names[index].startswith(below):
                self.note(
                    "name-collision-dir",
                    f"entry {name!r} is a file but {names[index]!r} uses it as a directory",
                )


class ZipArchive:
    """Read-only view of one zip held in memory; see the module docstring for its rules."""

    def __init__(
        self,
        view: memoryview,
        limits: Limits,
        label: str,
        slots: dict[str, _Slot],
        anomalies: list[ZipAnomaly],
        budget: UnpackBudget | None = None,
    ) -> None:
        self._view = view
        self._limits = limits
        self._where = f"{label}: " if label else ""
        self._slots = slots
        self._anomalies = list(dict.fromkeys(anomalies))
        self._seen = set(self._anomalies)
        self._damage: dict[str, list[str]] = {}
        self._kept: dict[str, bytes] = {}
        self.budget = budget or UnpackBudget()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, limits: Limits, *, label: str = "",
                   budget: UnpackBudget | None = None) -> ZipArchive:
        """Parse the structure of `data` without decompressing anything.

        Pass the outer archive's `budget` when opening an archive nested in it, so that
        --max-unpacked bounds everything one input unpacks to, however deep the nesting.
        Raises NotAnAndroidPackage when there is no zip structure at all, CorruptArchive when
        nothing can be located, and LimitExceeded when there are more entries than allowed.
        """
        view = memoryview(data).cast("B")
        where = f"{label}: " if label else ""
        parser = _Parser(view, limits, where)
        slots = parser.parse()
        return cls(view, limits, label, slots, parser.anomalies, budget)

    @property
    def anomalies(self) -> list[ZipAnomaly]:
        """Everything odd found so far, without repeats; reads can add to it."""
        return list(self._anomalies)

    @property
    def size(self) -> int:
        return len(self._view)

    def names(self) -> list[str]:
        """Entry names in central-directory order (recovered entries last), each once."""
        return list(self._slots)

    def entries(self) -> list[ZipEntry]:
        """The entries behind `names()`, in the same order: the first of any duplicates."""
        return [slot.entry for slot in self._slots.values()]

    def has(self, name: str) -> bool:
        return name in self._slots

    def renamed(self, names: dict[str, str], label: str) -> ZipArchive:
        """Some entries under other names (new -> old), sharing this archive's bytes and unpack
        budget: an App Bundle module seen as an APK without copying anything."""
        slots = {new: self._slots[old] for new, old in names.items() if old in self._slots}
        return ZipArchive(self._view, self._limits, label, slots, [], self.budget)

    def read(self, name: str, *, max_bytes: int | None = None, limit_name: str = "max_bytes", keep: bool = False) -> bytes:
        """The entry's content as Android would read it, within every limit.

        Raises KeyError for a name the archive lacks, LimitExceeded when the output passes
        `max_bytes`, the ratio limit or the archive's remaining unpacked budget, and
        CorruptArchive when the data cannot be decoded. A CRC mismatch is only recorded.
        `limit_name` is the option the user changes to raise `max_bytes` (e.g. "--max-dex").
        `keep` holds on to an undamaged entry's bytes, so that reading it again (resources.arsc:
        for the label, then for the lending search) neither inflates nor checksums it twice; a
        later read still counts against the limits and the unpacked budget as if it were decoded.
        """
        slot = self._slots[name]
        if slot.problem is not None:
            raise CorruptArchive(f"{self._where}entry {name!r}: {slot.problem}")
        guard = self._guard(name, max_bytes, limit_name)
        if slot.entry.uncompressed_size > guard.cap:
            raise guard.over_cap()
        data = self._kept.get(name)  # undamaged, so exactly uncompressed_size bytes: within the cap just checked
        if data is None:
            data = self._decode_checked(slot, guard)
            if keep and name not in self._damage:
                self._kept[name] = data
        self.budget.used += len(data)
        return data

    def _decode_checked(self, slot: _Slot, guard: _Guard) -> bytes:
        if slot.entry.flags & FLAG_ENCRYPTED:
            return self._decode_encrypted(slot, guard)
        data = self._decode(slot, guard)
        self._check_crc(slot.entry, data)
        return data

    def damage(self, name: str) -> tuple[str, ...]:
        """What reading entry `name` found wrong with its bytes (CRC or size mismatch), in words:
        the data is not what was stored, so whatever is read from it may be incomplete."""
        return tuple(self._damage.get(name, ()))

    def _note(self, kind: str, detail: str) -> None:
        anomaly = ZipAnomaly(kind, detail)
        if anomaly not in self._seen:
            self._seen.add(anomaly)
            self._anomalies.append(anomaly)

    def _guard(self, name: str, max_bytes: int | None, limit_name: str) -> _Guard:
        """The tightest of the caller's ceiling and what is left of the archive's budget."""
        label = f"{self._where}entry {name!r}"
        remaining = max(0, self._limits.unpack_budget - self.budget.used)
        if max_bytes is not None and max_bytes <= remaining:
            return _Guard(label, max_bytes, f"{label} unpacks to more than {max_bytes} bytes (limit {limit_name})",
                          limit_name, self._limits.max_ratio)
        message = f"{label} would take the archive past its unpacked total (limit {self._limits.unpack_budget_words()})"
        return _Guard(label, remaining, message, "--max-unpacked", self._limits.max_ratio)

    def _raw(self, slot: _Slot, length: int) -> memoryview:
        return self._view[slot.data_start : slot.data_start + length]

    def head(self, name: str, size: int = 4096) -> bytes:
        """At most the first `size` bytes of an entry, inflating no more than that: enough to
        recognise a file type without paying for the whole entry. Entries that are neither stored
        nor deflated, or encrypted, fall back to a full read()."""
        found = self.peek(name, size)
        return self.read(name)[:size] if found is None else found

    def peek(self, name: str, size: int = 4096) -> bytes | None:
        """head(), or None where only a full read() could tell (a damaged or encrypted entry, or a
        compression method other than stored and deflated): nothing is charged to the budget."""
        slot = self._slots[name]
        entry = slot.entry
        if slot.problem is not None or entry.flags & FLAG_ENCRYPTED or entry.method not in (STORED, DEFLATED):
            return None
        if entry.method == STORED:
            return bytes(self._raw(slot, min(size, entry.uncompressed_size)))
        raw = self._raw(slot, entry.compressed_size)
        inflater = zlib.decompressobj(-15)
        out, fed = b"", 0
        try:
            while len(out) < size and fed < len(raw) and not inflater.eof:
                chunk = raw[fed:fed + _IN_CHUNK]  # fed in chunks: zlib would copy all unused input otherwise
                fed += len(chunk)
                out += inflater.decompress(chunk, size - len(out))
        except zlib.error as exc:
            raise _deflate_error(f"{self._where}entry {entry.name!r}", exc) from exc
        return out

    def _decode(self, slot: _Slot, guard: _Guard) -> bytes:
        entry = slot.entry
        if entry.method == STORED:
            return bytes(self._raw(slot, entry.uncompressed_size))
        if entry.method == DEFLATED:
            data, complete = _inflate(self._raw(slot, entry.compressed_size), guard, entry.uncompressed_size)
            if not complete:
                raise CorruptArchive(f"{self._where}entry {entry.name!r}: deflate stream is cut short")
            self._check_size(entry, data)
            return data
        return self._decode_unknown(slot, guard)

    def _decode_unknown(self, slot: _Slot, guard: _Guard) -> bytes:
        """Deflate if the data is a complete stream of the declared size (the v1 verifier's
        reading), else stored if the sizes agree (libandroidfw's reading), else give up."""
        entry = slot.entry
        try:
            data, complete = _inflate(self._raw(slot, entry.compressed_size), guard, entry.uncompressed_size)
            if complete and len(data) == entry.uncompressed_size:
                return data
        except CorruptArchive:
            pass
        if entry.compressed_size == entry.uncompressed_size:
            return bytes(self._raw(slot, entry.uncompressed_size))
        raise CorruptArchive(
            f"{self._where}entry {entry.name!r} uses compression method {entry.method}, "
            "and its data is neither deflate nor stored"
        )

    def _decode_encrypted(self, slot: _Slot, guard: _Guard) -> bytes:
        """Read a flagged entry as plain data, as Android does; it is really encrypted when
        that fails or the CRC disagrees."""
        encrypted = CorruptArchive(f"{self._where}entry {slot.entry.name!r} is encrypted")
        try:
            data = self._decode(slot, guard)
        except CorruptArchive:
            raise encrypted from None
        if deflate.crc32(data) != slot.entry.crc:
            raise encrypted
        return data

    def _check_size(self, entry: ZipEntry, data: bytes) -> None:
        if len(data) != entry.uncompressed_size:
            self._damage.setdefault(entry.name, []).append(
                f"zip entry inflates to {len(data)} bytes, not the declared {entry.uncompressed_size}")
            self._note(
                "size-mismatch",
                f"entry {entry.name!r} inflates to {len(data)} bytes, not the declared {entry.uncompressed_size}",
            )

    def _check_crc(self, entry: ZipEntry, data: bytes) -> None:
        actual = deflate.crc32(data)
        if actual != entry.crc:
            self._damage.setdefault(entry.name, []).append("zip entry CRC does not match")
            self._note(
                "bad-crc",
                f"entry {entry.name!r} has CRC {actual:#010x}, not the declared {entry.crc:#010x}",
            )
