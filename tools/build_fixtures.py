#!/usr/bin/env python3
"""Build the test fixtures (APKs, bundles, bad inputs) from tests/fixtures/src, byte for byte reproducibly.

Usage:
    python tools/build_fixtures.py           rebuild everything into tests/fixtures/{apk,bundles,bad}
    python tools/build_fixtures.py --check   rebuild into a temporary directory and compare the bytes
                                             with the committed files (exit status 1 on any difference)

Each directory tests/fixtures/src/<name>/ holding an AndroidManifest.xml becomes apk/<name>.apk:
    AndroidManifest.xml   packaged by aapt (v1) against the API 29 framework-res.apk
    res/                  optional resources (the label string), passed to aapt with -S
    assets/               optional assets, passed to aapt with -A
    smali/                assembled by smali into classes.dex
    smali_classes<N>/     assembled into classes<N>.dex (multidex)
    payload_smali/        assembled into a plain dex stored as assets/payload.dex (a "hidden" dex)
    zip_files/            copied verbatim into the APK, each under its path below zip_files/ (binary
                          inputs: Hermes bytecode, .NET assemblies, stub ELF libraries)
    runtime_src/          sources of the zip_files/ that other compilers make (hermesc, mcs, objcopy);
                          `--runtime-inputs` regenerates them, the APK build only copies zip_files/
tests/fixtures/src/bundle/ holds the base, feature and config splits that make up the bundles.

Reproducibility: the zip is rewritten with sorted entries, a fixed timestamp and fixed attributes;
zipalign then apksigner (deterministic RSA signatures, no timestamps) sign with the committed
throwaway key tests/fixtures/keys/fixture.p12. Needs aapt, smali, zipalign, apksigner and
/usr/share/android-framework-res/framework-res.apk (Debian 12 packages of those names).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import filecmp
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SRC = FIXTURES / "src"
BUNDLE_SRC = SRC / "bundle"
OUTPUT_DIRS = ("apk", "bundles", "bad")
"""Subdirectories of tests/fixtures that this script writes (and that --check compares)."""

KEYSTORE = FIXTURES / "keys" / "fixture.p12"
KEY_ALIAS = "fixture"
KEY_PASSWORD = "android"  # a throwaway test key; never use it for anything real
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")
ANDROID_URI = "http://schemas.android.com/apk/res/android"
REQUIRED_TOOLS = ("aapt", "smali", "zipalign", "apksigner")

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every zip entry we write (the earliest a zip can hold)."""
JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
"""Makes the JVM of smali and apksigner start about a third faster."""
DEX_API = 21

BUNDLE_PACKAGE = "com.cea.fixture.bundle"
BUNDLE_META = {
    "package": BUNDLE_PACKAGE,
    "label": "Bundle Fixture",
    "version_code": 1,
    "version_name": "1.0",
    "min_sdk": 21,
    "target_sdk": 29,
    "permissions": ["android.permission.READ_CONTACTS", "android.permission.INTERNET"],
}
"""What the bundle's base manifest declares, repeated in each bundle format's metadata file."""


# --------------------------------------------------------------------------- processes


class BuildError(RuntimeError):
    """A tool failed; the message carries its command line and output."""


def run(cmd: list[str], cwd: Path | None = None) -> None:
    """Run one tool, raising BuildError with its output if it fails."""
    env = dict(os.environ, JAVA_TOOL_OPTIONS=JAVA_OPTIONS)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


def missing_prerequisites() -> list[str]:
    """Names of the tools and files this build needs but cannot find."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if not FRAMEWORK_RES.is_file():
        missing.append(str(FRAMEWORK_RES))
    return missing


def ensure_keystore() -> None:
    """Create the throwaway signing key if it is absent (it is committed, so normally a no-op)."""
    if KEYSTORE.is_file():
        return
    KEYSTORE.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            "keytool",
            "-genkeypair",
            "-storetype",
            "PKCS12",
            "-keystore",
            str(KEYSTORE),
            "-alias",
            KEY_ALIAS,
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-validity",
            "36500",
            "-dname",
            "CN=Contact Exposure Auditor test fixtures, O=Throwaway test key",
            "-storepass",
            KEY_PASSWORD,
            "-keypass",
            KEY_PASSWORD,
        ]
    )


# --------------------------------------------------------------------------- zips


def zip_info(name: str, compress: bool) -> zipfile.ZipInfo:
    """A ZipInfo whose metadata does not depend on the machine, the clock or the file system."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


def apk_entry_compressed(name: str) -> bool:
    """Compression the platform tools would choose: arsc, native libs and nested APKs stay stored."""
    return not (name == "resources.arsc" or name.endswith((".so", ".apk", ".png")))


def write_zip(path: Path, entries: dict[str, bytes], compress: Callable[[str], bool] = apk_entry_compressed) -> None:
    """Write `entries` to a new zip at `path`, sorted by name, with fixed metadata."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(entries):
            compressed = compress(name)
            archive.writestr(zip_info(name, compressed), entries[name], compresslevel=9 if compressed else None)


def read_zip(path: Path) -> dict[str, bytes]:
    """All entries of a zip, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


# --------------------------------------------------------------------------- APKs


@dataclass(frozen=True)
class ApkSpec:
    """Everything needed to build one APK."""

    name: str
    manifest: Path
    res: Path | None = None
    assets: Path | None = None
    dex: tuple[tuple[Path, ...], ...] = ()
    """One tuple of smali directories per dex file: classes.dex, classes2.dex, ..."""
    extra: dict[str, bytes] = field(default_factory=dict, hash=False)
    """Further zip entries (generated assets, native libraries)."""
    hidden_dex: dict[str, tuple[Path, ...]] = field(default_factory=dict, hash=False)
    """Zip entry name -> smali directories assembled into a dex stored under that name."""


def dex_name(index: int) -> str:
    """classes.dex, classes2.dex, classes3.dex, ..."""
    return "classes.dex" if index == 0 else f"classes{index + 1}.dex"


def smali_dirs(src: Path) -> tuple[tuple[Path, ...], ...]:
    """smali/ then smali_classes2/, smali_classes3/, ... as long as they exist."""
    dirs: list[tuple[Path, ...]] = []
    if (src / "smali").is_dir():
        dirs.append((src / "smali",))
        n = 2
        while (src / f"smali_classes{n}").is_dir():
            dirs.append((src / f"smali_classes{n}",))
            n += 1
    return tuple(dirs)


def optional_dir(path: Path) -> Path | None:
    """`path` if it is a directory, else None."""
    return path if path.is_dir() else None


def zip_files(src: Path) -> dict[str, bytes]:
    """Files under src/zip_files/, keyed by their path below it (the zip entry name)."""
    root = src / "zip_files"
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def spec_from_dir(name: str, src: Path) -> ApkSpec:
    """An ApkSpec following the directory conventions described in the module docstring."""
    hidden: dict[str, tuple[Path, ...]] = {}
    if (src / "payload_smali").is_dir():
        hidden["assets/payload.dex"] = (src / "payload_smali",)
    return ApkSpec(
        name=name,
        manifest=src / "AndroidManifest.xml",
        res=optional_dir(src / "res"),
        assets=optional_dir(src / "assets"),
        dex=smali_dirs(src),
        extra={**GENERATED_ENTRIES.get(name, dict)(), **zip_files(src)},
        hidden_dex=hidden,
    )


def discover_apk_specs() -> list[ApkSpec]:
    """One spec per tests/fixtures/src/<name>/ that holds an AndroidManifest.xml."""
    return [spec_from_dir(d.name, d) for d in sorted(SRC.iterdir()) if (d / "AndroidManifest.xml").is_file()]


def assemble_dex(dirs: tuple[Path, ...], out: Path) -> bytes:
    """Assemble smali directories into one dex file and return its bytes.

    `--jobs 1`: smali's parallel parsing orders class_defs by completion, so under load (several
    builds at once) the dex bytes would vary from run to run.
    """
    run(["smali", "assemble", "--jobs", "1", "--api", str(DEX_API), "-o", str(out), *map(str, dirs)])
    return out.read_bytes()


def aapt_package(spec: ApkSpec, out: Path) -> dict[str, bytes]:
    """Compile the manifest (and res/, assets/) with aapt; return the resulting zip entries."""
    cmd = ["aapt", "package", "-f", "-M", str(spec.manifest), "-I", str(FRAMEWORK_RES), "-F", str(out)]
    if spec.res:
        cmd += ["-S", str(spec.res)]
    if spec.assets:
        cmd += ["-A", str(spec.assets)]
    run(cmd)
    return read_zip(out)


def sign(unsigned: Path, work: Path, out: Path) -> None:
    """zipalign (4-byte, page-aligned .so) then sign with the committed key (v1+v2+v3, no v4)."""
    aligned = work / "aligned.apk"
    run(["zipalign", "-f", "-p", "4", str(unsigned), str(aligned)])
    run(
        [
            "apksigner",
            "sign",
            "--ks",
            str(KEYSTORE),
            "--ks-type",
            "PKCS12",
            "--ks-key-alias",
            KEY_ALIAS,
            "--ks-pass",
            f"pass:{KEY_PASSWORD}",
            "--key-pass",
            f"pass:{KEY_PASSWORD}",
            "--v4-signing-enabled",
            "false",
            "--out",
            str(out),
            str(aligned),
        ]
    )


def build_apk(spec: ApkSpec, out: Path, work_root: Path) -> Path:
    """Build one signed APK at `out`, using a private scratch directory under `work_root`."""
    work = work_root / spec.name
    work.mkdir(parents=True)
    entries = aapt_package(spec, work / "resources.ap_")
    for index, dirs in enumerate(spec.dex):
        entries[dex_name(index)] = assemble_dex(dirs, work / dex_name(index))
    for entry, dirs in spec.hidden_dex.items():
        entries[entry] = assemble_dex(dirs, work / Path(entry).name)
    entries.update(spec.extra)
    write_zip(work / "unsigned.apk", entries)
    out.parent.mkdir(parents=True, exist_ok=True)
    sign(work / "unsigned.apk", work, out)
    return out


# --------------------------------------------------------------------------- generated content


def pseudo_random_bytes(seed: str, size: int) -> bytes:
    """Deterministic noise: SHA-256 in counter mode (stable across Python versions)."""
    blocks = (hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def packer_entries() -> dict[str, bytes]:
    """Jiagu-like payload: an 'encrypted' dex (8 KiB of noise) and the packer's native library."""
    lib = b"libjiagu.so placeholder for the packer fixture (not a real ELF file)\n"
    return {
        "assets/classes.dex.enc": pseudo_random_bytes("packer/classes.dex.enc", 8192),
        "assets/libjiagu.so": lib,
        "lib/armeabi-v7a/libjiagu.so": lib,
    }


def unnamed_packer_entries() -> dict[str, bytes]:
    """A packer no catalog names: an encrypted payload (16 KiB of noise) and a base64-encoded dex."""
    import base64

    dex_like = b"dex\n035\0" + pseudo_random_bytes("packer_unnamed/cfg.dex", 4088)
    return {
        "assets/d.bin": pseudo_random_bytes("packer_unnamed/d.bin", 16384),
        "assets/cfg.dat": base64.b64encode(dex_like),
    }


GENERATED_ENTRIES = {"packer": packer_entries, "packer_noperm": packer_entries, "packer_unnamed": unnamed_packer_entries}


# --------------------------------------------------------------------------- runtime inputs (--runtime-inputs)


def tool_path(env: str, name: str) -> str:
    """A compiler from $env, else from PATH; BuildError naming how to get it otherwise."""
    found = os.environ.get(env) or shutil.which(name)
    if not found:
        raise BuildError(f"{name} not found: set {env} or put it on PATH (see tests/fixtures/README.md)")
    return found


def hermes_inputs(src: Path) -> list[Path]:
    """runtime_src/index.android.js compiled by hermesc (npm's hermes-compiler) into the bundle."""
    out = src / "zip_files" / "assets" / "index.android.bundle"
    out.parent.mkdir(parents=True, exist_ok=True)
    run([tool_path("HERMESC", "hermesc"), "-emit-binary", "-out", str(out), str(src / "runtime_src" / "index.android.js")])
    return [out]


def stub_elf(strings: Path, out: Path) -> Path:
    """An x86-64 ELF whose .rodata holds the NUL-separated lines of `strings` (a stand-in for a
    Dart AOT snapshot: no Dart compiler is available here)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "strings.bin"
        raw.write_bytes(b"".join(line.encode() + b"\0" for line in strings.read_text().splitlines() if line))
        run(["objcopy", "-I", "binary", "-O", "elf64-x86-64",
             "--rename-section", ".data=.rodata,alloc,load,readonly,data,contents", raw.name, str(out.resolve())], cwd=Path(tmp))
    return out


def flutter_inputs(src: Path) -> list[Path]:
    lib = src / "zip_files" / "lib" / "x86_64"
    return [stub_elf(src / "runtime_src" / "libapp.strings", lib / "libapp.so"),
            stub_elf(src / "runtime_src" / "libflutter.strings", lib / "libflutter.so")]


def xalz(data: bytes, index: int) -> bytes:
    """Xamarin.Android's compressed assembly: 'XALZ', descriptor index, size, then one LZ4 block."""
    import lz4.block

    return b"XALZ" + struct.pack("<II", index, len(data)) + lz4.block.compress(data, store_size=False)


def assembly_store(assemblies: list[bytes]) -> bytes:
    """An XABA v1 assembly store (assemblies.blob): header, one descriptor per assembly, the data.
    Real stores also carry hash tables after the descriptors; readers locate data by offset."""
    header_size = 20 + 24 * len(assemblies)
    descriptors, offset = b"", header_size
    for data in assemblies:
        descriptors += struct.pack("<6I", offset, len(data), 0, 0, 0, 0)
        offset += len(data)
    return struct.pack("<4sIIII", b"XABA", 1, len(assemblies), len(assemblies), 0) + descriptors + b"".join(assemblies)


def store_manifest(names: list[str]) -> str:
    """assemblies.manifest as .NET for Android writes it beside the store: a header line, then per
    assembly its hashes, blob id, index in the store and name (the hashes here are placeholders)."""
    rows = [f"0x{i:08x}  0x{i:016x}  000      {i:04d}      {Path(n).stem}" for i, n in enumerate(names)]
    return "\n".join(["Hash 32     Hash 64             Blob ID  Blob idx  Name", *rows]) + "\n"


def dotnet_inputs(src: Path, store: bool) -> list[Path]:
    """The stub libraries and the app assembly compiled with mcs (from xamarin_contacts/runtime_src,
    which both .NET fixtures share); XALZ files, or one assemblies.blob."""
    mcs = tool_path("MCS", "mcs")
    code = SRC / "xamarin_contacts" / "runtime_src"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run([mcs, "-target:library", f"-out:{work / 'Xamarin.Essentials.dll'}", str(code / "Xamarin.Essentials.cs")])
        run([mcs, "-target:library", f"-out:{work / 'System.Net.Http.Stub.dll'}", str(code / "System.Net.Http.cs")])
        run([mcs, "-target:library", f"-r:{work / 'Xamarin.Essentials.dll'}", f"-r:{work / 'System.Net.Http.Stub.dll'}",
             "-r:System.Core.dll", f"-out:{work / 'LoanApp.dll'}", str(code / "LoanApp.cs")])
        names = ["LoanApp.dll", "Xamarin.Essentials.dll", "System.Net.Http.Stub.dll"]
        built = [(work / n).read_bytes() for n in names]
    target = src / "zip_files" / "assemblies"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if store:
        (target / "assemblies.blob").write_bytes(assembly_store([xalz(data, i) for i, data in enumerate(built)]))
        (target / "assemblies.manifest").write_text(store_manifest(names))
        return [target / "assemblies.blob", target / "assemblies.manifest"]
    for index, (name, data) in enumerate(zip(names, built, strict=True)):
        (target / name).write_bytes(xalz(data, index))
    return [target / n for n in names]


def build_runtime_inputs() -> list[Path]:
    """Regenerate the binary zip_files/ of the runtime fixtures (hermesc, objcopy, mcs needed).

    These compilers are not needed to rebuild the APKs: their output is committed, because hermesc
    comes from npm and mcs stamps every assembly with a fresh GUID (MVID), so it is not reproducible.
    """
    return [*hermes_inputs(SRC / "rn_hermes"), *flutter_inputs(SRC / "flutter_contacts"),
            *dotnet_inputs(SRC / "xamarin_contacts", store=False), *dotnet_inputs(SRC / "maui_blob", store=True)]
"""Fixture name -> function returning extra zip entries generated at build time."""


# --------------------------------------------------------------------------- protobuf (toc.pb, aab)


def pb_varint(value: int) -> bytes:
    """Protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_field(number: int, value: bytes | str | int | bool) -> bytes:
    """One protobuf field: varint for int/bool, length-delimited for bytes/str (nested messages)."""
    if isinstance(value, (bool, int)):
        return pb_varint(number << 3) + pb_varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return pb_varint(number << 3 | 2) + pb_varint(len(data)) + data


def toc_split_apks() -> bytes:
    """BuildApksResult (bundletool commands.proto) listing the split APKs of bundle.apks."""

    def apk(path: str, split_id: str, master: bool) -> bytes:
        meta = (pb_field(1, split_id) if split_id else b"") + (pb_field(2, True) if master else b"")
        return pb_field(2, path) + pb_field(3, meta)

    base = (
        pb_field(1, pb_field(1, "base") + pb_field(6, 1))
        + pb_field(2, apk("splits/base-master.apk", "", True))
        + pb_field(2, apk("splits/base-xxhdpi.apk", "config.xxhdpi", False))
    )
    feature = pb_field(1, pb_field(1, "feature_sync") + pb_field(6, 1)) + pb_field(
        2, apk("splits/feature_sync-master.apk", "feature_sync", True)
    )
    variant = pb_field(2, base) + pb_field(2, feature)
    return pb_field(1, variant) + pb_field(2, pb_field(2, "1.15.6")) + pb_field(4, BUNDLE_PACKAGE)


def toc_universal() -> bytes:
    """BuildApksResult describing a single standalone universal.apk fusing both modules."""
    standalone = pb_field(1, "base") + pb_field(1, "feature_sync")
    apk_set = pb_field(1, pb_field(1, "base")) + pb_field(2, pb_field(2, "universal.apk") + pb_field(4, standalone))
    return pb_field(1, pb_field(2, apk_set)) + pb_field(2, pb_field(2, "1.15.6")) + pb_field(4, BUNDLE_PACKAGE)


# --------------------------------------------------------------------------- bundles


def bundle_specs() -> dict[str, ApkSpec]:
    """The four APKs the bundles are made of: base, feature split, config split, universal."""
    base, feature = BUNDLE_SRC / "base", BUNDLE_SRC / "feature_sync"
    return {
        "base": ApkSpec("bundle-base", base / "AndroidManifest.xml", dex=smali_dirs(base)),
        "feature_sync": ApkSpec("bundle-feature_sync", feature / "AndroidManifest.xml", dex=smali_dirs(feature)),
        "config.xxhdpi": ApkSpec("bundle-config.xxhdpi", BUNDLE_SRC / "config.xxhdpi" / "AndroidManifest.xml"),
        "universal": ApkSpec(
            "bundle-universal", BUNDLE_SRC / "universal" / "AndroidManifest.xml", dex=((base / "smali", feature / "smali"),)
        ),
    }


def json_bytes(data: dict[str, Any]) -> bytes:
    """Stable, readable JSON."""
    return (json.dumps(data, indent=2) + "\n").encode()


def xapk_manifest() -> bytes:
    """APKPure manifest.json (APKPure writes the numbers as strings)."""
    m = BUNDLE_META
    return json_bytes(
        {
            "xapk_version": 2,
            "package_name": m["package"],
            "name": m["label"],
            "version_code": str(m["version_code"]),
            "version_name": m["version_name"],
            "min_sdk_version": str(m["min_sdk"]),
            "target_sdk_version": str(m["target_sdk"]),
            "permissions": m["permissions"],
            "split_configs": ["config.xxhdpi"],
            "split_apks": [
                {"file": f"{m['package']}.apk", "id": "base"},
                {"file": "feature_sync.apk", "id": "feature_sync"},
                {"file": "config.xxhdpi.apk", "id": "config.xxhdpi"},
            ],
        }
    )


def sai_meta() -> bytes:
    """SAI (Split APKs Installer) meta.sai_v1.json."""
    m = BUNDLE_META
    return json_bytes(
        {
            "package": m["package"],
            "label": m["label"],
            "version_code": m["version_code"],
            "version_name": m["version_name"],
            "min_sdk": m["min_sdk"],
            "target_sdk": m["target_sdk"],
            "split_apk": True,
            "meta_version": 1,
            "export_timestamp": 1577836800000,
        }
    )


def apkm_info() -> bytes:
    """APKMirror info.json (unencrypted .apkm)."""
    m = BUNDLE_META
    return json_bytes(
        {
            "apkm_version": 5,
            "pname": m["package"],
            "versioncode": str(m["version_code"]),
            "release_version": m["version_name"],
            "app_name": m["label"],
            "min_api": str(m["min_sdk"]),
        }
    )


def bundle_layouts(apks: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """Bundle file name -> its zip entries, given the built base/feature_sync/config.xxhdpi/universal APKs."""
    base, feature, config = apks["base"], apks["feature_sync"], apks["config.xxhdpi"]
    flat = {"base.apk": base, "split_feature_sync.apk": feature, "split_config.xxhdpi.apk": config}
    return {
        "bundle.xapk": {
            "manifest.json": xapk_manifest(),
            f"{BUNDLE_PACKAGE}.apk": base,
            "feature_sync.apk": feature,
            "config.xxhdpi.apk": config,
        },
        "bundle.apks": {
            "toc.pb": toc_split_apks(),
            "splits/base-master.apk": base,
            "splits/feature_sync-master.apk": feature,
            "splits/base-xxhdpi.apk": config,
        },
        "bundle_universal.apks": {"toc.pb": toc_universal(), "universal.apk": apks["universal"]},
        "bundle_sai.apks": {"meta.sai_v1.json": sai_meta(), **flat},
        "bundle_nometa.apks": flat,  # split APKs pulled from a phone and zipped: no toc.pb, no metadata
        "bundle.apkm": {"info.json": apkm_info(), **flat},
    }


def proto_xml(element: ET.Element) -> bytes:
    """An aapt2 XmlElement (Resources.proto) for a parsed XML element: name, attributes, children."""
    out = b""
    tag = element.tag.split("}")[-1]
    if element.tag == "manifest":
        out += pb_field(1, pb_field(1, "android") + pb_field(2, ANDROID_URI))  # namespace_declaration
    out += pb_field(3, tag)
    for key, value in element.attrib.items():
        uri, _, name = key[1:].partition("}") if key.startswith("{") else ("", "", key)
        out += pb_field(4, (pb_field(1, uri) if uri else b"") + pb_field(2, name) + pb_field(3, value))
    for child in element:
        out += pb_field(5, pb_field(1, proto_xml(child)))
    return out


def proto_manifest(path: Path) -> bytes:
    """The XmlNode bundletool stores for a module's AndroidManifest.xml."""
    return pb_field(1, proto_xml(ET.parse(path).getroot()))


def app_bundle(apks: dict[str, bytes]) -> dict[str, bytes]:
    """An .aab of the bundle app: base and feature_sync modules, protobuf manifests, each module's dex."""
    entries = {"BundleConfig.pb": pb_field(1, pb_field(2, "1.15.6"))}
    for module, key in (("base", "base"), ("feature_sync", "feature_sync")):
        entries[f"{module}/manifest/AndroidManifest.xml"] = proto_manifest(BUNDLE_SRC / key / "AndroidManifest.xml")
        entries[f"{module}/dex/classes.dex"] = read_zip_bytes(apks[key])["classes.dex"]
    return entries


def read_zip_bytes(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def code_only(apks: dict[str, bytes]) -> dict[str, dict[str, bytes] | bytes]:
    """Code without an APK: the feature split's dex alone (it reads and uploads contacts), a jar of
    it, and an .aar (text manifest, classes.jar)."""
    dex = read_zip_bytes(apks["feature_sync"])["classes.dex"]
    classes_jar = io.BytesIO()
    with zipfile.ZipFile(classes_jar, "w") as jar:
        jar.writestr(zip_info("META-INF/MANIFEST.MF", True), b"Manifest-Version: 1.0\r\n\r\n")
    aar_manifest = (BUNDLE_SRC / "library" / "AndroidManifest.xml").read_bytes()
    return {
        "feature_sync.dex": dex,
        "feature_sync.jar": {"classes.dex": dex},
        "library.aar": {"AndroidManifest.xml": aar_manifest, "classes.jar": classes_jar.getvalue(), "R.txt": b""},
    }


def write_bundles(built: dict[str, Path], out_dir: Path) -> list[Path]:
    """Zip the built split APKs into every bundle format (APKs stored, metadata deflated)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    apks = {key: path.read_bytes() for key, path in built.items()}
    written = []
    for name, entries in bundle_layouts(apks).items():
        write_zip(out_dir / name, entries, compress=lambda entry: not entry.endswith(".apk"))
        written.append(out_dir / name)
    write_zip(out_dir / "bundle.aab", app_bundle(apks))
    written.append(out_dir / "bundle.aab")
    for name, content in code_only(apks).items():
        if isinstance(content, bytes):
            (out_dir / name).write_bytes(content)
        else:
            write_zip(out_dir / name, content)
        written.append(out_dir / name)
    return written


# --------------------------------------------------------------------------- bad inputs


def pe32_stub() -> bytes:
    """512 bytes: a DOS 'MZ' header pointing at a PE signature and an i386 COFF header."""
    data = bytearray(512)
    data[0:2] = b"MZ"
    struct.pack_into("<I", data, 0x3C, 0x80)  # e_lfanew
    data[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", data, 0x84, 0x014C, 0, 0, 0, 0, 0xE0, 0x0102)
    return bytes(data)


def write_bad(out_dir: Path, benign_apk: Path) -> list[Path]:
    """Inputs that are not (valid) APKs: text, a PE file, an empty zip, a dex-only zip named .apk."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "not_a_zip.apk": b"This is a plain text file with an .apk name, not a zip archive.\n",
        "pe32.apk": pe32_stub(),
        "empty.apk": b"PK\x05\x06" + bytes(18),
    }
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
    write_zip(out_dir / "dex_only.apk", {"classes.dex": read_zip(benign_apk)["classes.dex"]})
    return sorted(out_dir.iterdir())


# --------------------------------------------------------------------------- driver


def build_all(out_root: Path, jobs: int | None = None) -> list[Path]:
    """Build every fixture into out_root/{apk,bundles,bad}; returns the files written."""
    ensure_keystore()
    for sub in OUTPUT_DIRS:
        shutil.rmtree(out_root / sub, ignore_errors=True)
    apk_jobs = {spec: out_root / "apk" / f"{spec.name}.apk" for spec in discover_apk_specs()}
    bundle_parts = bundle_specs()
    with tempfile.TemporaryDirectory(prefix="cea-fixtures-") as tmp:
        work = Path(tmp)
        bundle_jobs = {spec: work / "bundle-apks" / f"{key}.apk" for key, spec in bundle_parts.items()}
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            futures = [pool.submit(build_apk, spec, out, work / "build") for spec, out in {**apk_jobs, **bundle_jobs}.items()]
            for future in concurrent.futures.as_completed(futures):
                future.result()
        written = list(apk_jobs.values())
        written += write_bundles({key: bundle_jobs[spec] for key, spec in bundle_parts.items()}, out_root / "bundles")
    written += write_bad(out_root / "bad", out_root / "apk" / "benign.apk")
    return sorted(written)


def compare_trees(expected_root: Path, actual_root: Path) -> list[str]:
    """Differences between the committed outputs and a fresh build, one line each."""
    problems = []
    for sub in OUTPUT_DIRS:
        expected = {p.relative_to(expected_root) for p in (expected_root / sub).rglob("*") if p.is_file()}
        actual = {p.relative_to(actual_root) for p in (actual_root / sub).rglob("*") if p.is_file()}
        problems += [f"missing from tests/fixtures (not committed?): {p}" for p in sorted(actual - expected)]
        problems += [f"no longer produced by the build: {p}" for p in sorted(expected - actual)]
        problems += [
            f"differs from a fresh build: {p}"
            for p in sorted(expected & actual)
            if not filecmp.cmp(expected_root / p, actual_root / p, shallow=False)
        ]
    return problems


def check(jobs: int | None = None) -> int:
    """Rebuild into a temporary directory and compare with the committed files; 0 if identical."""
    if not KEYSTORE.is_file():
        print(f"{KEYSTORE.relative_to(REPO)} is missing: the committed fixtures cannot be reproduced without it")
        return 1
    with tempfile.TemporaryDirectory(prefix="cea-fixtures-check-") as tmp:
        built = build_all(Path(tmp), jobs)
        problems = compare_trees(FIXTURES, Path(tmp))
    for line in problems:
        print(line)
    print(f"checked {len(built)} files: " + ("OK, all identical" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="rebuild into a temp dir and compare with the committed files (exit 1 on difference)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel builds (default: CPU count)")
    parser.add_argument("--runtime-inputs", action="store_true",
                        help="regenerate the committed Hermes bundle, stub libapp.so and .NET assemblies first")
    args = parser.parse_args(argv)
    missing = missing_prerequisites()
    if missing:
        print(f"missing prerequisites: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        if args.runtime_inputs:
            for path in build_runtime_inputs():
                print(path.relative_to(REPO))
        if args.check:
            return check(args.jobs)
        for path in build_all(FIXTURES, args.jobs):
            print(path.relative_to(REPO))
        return 0
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
