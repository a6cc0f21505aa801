"""Issue 14 defect 5: the checked rule set is cached as data that is never executed, only in a
private folder, and a damaged cache file is a warning and a rebuild."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import stat
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest

from auditor import cachedir
from auditor.cache import UnsafeCacheDir, private_cache_dir
from auditor.cachedir import tree_digest
from auditor.ruleset.ruleset import Rule, from_data, load_ruleset, load_ruleset_cached, to_data


class _Planted:
    """A pickle that, if ever loaded, creates a marker file (as a planted payload would run code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.mkdir, (str(self.marker), ))  # type: ignore[return-value]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(folder))
    return folder


def _cache_file(folder: Path) -> Path:
    (found,) = folder.glob("ruleset-*.json")
    return found


def test_rule_set_round_trips_through_json() -> None:
    rules = load_ruleset()
    assert from_data(json.loads(json.dumps(to_data(rules)))) == rules


def test_cache_folder_is_created_private(cache_dir: Path) -> None:
    load_ruleset_cached()
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert _cache_file(cache_dir).read_text(encoding="utf-8").startswith("{")


def test_planted_pickle_is_never_loaded(cache_dir: Path, tmp_path: Path) -> None:
    load_ruleset_cached()
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Planted(marker))
    name = _cache_file(cache_dir).name
    for planted in (name.replace(".json", ".pickle"), name):  # the old pickle's name, and the new file's
        (cache_dir / planted).write_bytes(payload)
        assert load_ruleset_cached() == load_ruleset()
    assert not marker.exists()


@pytest.mark.parametrize("damage", [b"", b"{not json", b"\xff\xfe", b"[]", b'{"format": 1}', b"null",
                                    b'{"format": 1, "key": "?", "ruleset": {}}'])
def test_corrupt_cache_is_a_warning_and_a_rebuild(cache_dir: Path, damage: bytes, caplog: pytest.LogCaptureFixture) -> None:
    expected = load_ruleset_cached()
    path = _cache_file(cache_dir)
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert load_ruleset_cached() == expected
    assert "rebuilding" in caplog.text
    assert from_data(json.loads(path.read_text(encoding="utf-8"))["ruleset"]) == expected  # rewritten whole


def test_cache_with_the_right_key_but_wrong_shape_is_rebuilt(cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    expected = load_ruleset_cached()
    path = _cache_file(cache_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["ruleset"]["rules"] = [{"id": 5}]
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert load_ruleset_cached() == expected
    assert "corrupt" in caplog.text


def _tampered(cache_dir: Path) -> None:
    """Edit the cached copy (with its valid key) so that using it would show in the result."""
    path = _cache_file(cache_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["ruleset"]["rules"][0][[f.name for f in fields(Rule)].index("points")] = 99
    path.write_text(json.dumps(data), encoding="utf-8")


def test_private_cache_is_used(cache_dir: Path) -> None:
    load_ruleset_cached()
    _tampered(cache_dir)
    assert load_ruleset_cached().rules[0].points == 99  # so the refusals below are real refusals


def test_cache_folder_others_can_write_is_refused(cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_ruleset_cached()
    _tampered(cache_dir)
    cache_dir.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert load_ruleset_cached() == load_ruleset()
    assert "writable by other users" in caplog.text
    with pytest.raises(UnsafeCacheDir):
        private_cache_dir(cache_dir)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to give a folder to another user")
def test_cache_folder_of_another_user_is_refused(cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_ruleset_cached()
    _tampered(cache_dir)
    os.chown(cache_dir, 12345, 12345)
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert load_ruleset_cached() == load_ruleset()
    assert "belongs to another user" in caplog.text


def test_read_only_use_reads_a_cached_copy_and_writes_nothing(cache_dir: Path) -> None:
    """--no-cache (write=False) is spared the YAML and schemas by an earlier run's copy, and leaves
    the folder as it found it: nothing created when it is missing, nothing rewritten when stale."""
    assert load_ruleset_cached(write=False) == load_ruleset()
    assert not cache_dir.exists()
    load_ruleset_cached()
    _tampered(cache_dir)
    before = {p.name: p.read_bytes() for p in cache_dir.iterdir()}
    assert load_ruleset_cached(write=False).rules[0].points == 99  # served from the copy
    _cache_file(cache_dir).write_bytes(b"{broken")
    assert load_ruleset_cached(write=False) == load_ruleset()
    assert _cache_file(cache_dir).read_bytes() == b"{broken"  # not repaired: read-only
    assert set(p.name for p in cache_dir.iterdir()) == set(before)


def test_warm_cache_carries_the_text_tables(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm rule-set cache gives the i18n tables as the YAML files do, without PyYAML."""
    from auditor import i18n

    load_ruleset_cached()
    written = json.loads(_cache_file(cache_dir).read_text(encoding="utf-8"))["texts"]
    assert set(written) == set(i18n.LANGUAGES)
    monkeypatch.setattr(i18n, "_PRELOADED", {})
    i18n._table.cache_clear()
    from_yaml = i18n.tables()
    assert written == from_yaml
    monkeypatch.setitem(sys.modules, "yaml", None)  # importing PyYAML now fails
    i18n._table.cache_clear()
    load_ruleset_cached(write=False)
    assert i18n.tables() == from_yaml
    i18n._table.cache_clear()


def test_damaged_text_tables_are_a_rebuild(cache_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_ruleset_cached()
    path = _cache_file(cache_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["texts"] = {"en": {"policy_reason.not_lending": 3}}
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert load_ruleset_cached() == load_ruleset()
    assert "corrupt" in caplog.text



def _stat_key(root: Path) -> tuple[str, bool]:
    digest = hashlib.sha256()
    settled = tree_digest(digest, root, (".yaml",))
    return digest.hexdigest(), settled


def test_stat_key_follows_every_edit(tmp_path: Path) -> None:
    """The key is made of stat results, not bytes, yet every edit changes it: a rewrite of the same
    size with its old mtime put back (cp -p, rsync) changes the ctime; a new, removed or renamed
    file changes the list. Other suffixes and __pycache__ do not count."""
    rules = tmp_path / "rules"
    (rules / "__pycache__").mkdir(parents=True)
    path = rules / "r.yaml"
    path.write_text("points: 3\n")
    keys = [_stat_key(rules)[0]]
    (rules / "notes.txt").write_text("x")
    (rules / "__pycache__" / "r.yaml").write_text("y")
    assert _stat_key(rules)[0] == keys[0]
    before = path.stat()
    time.sleep(0.02)  # past the clock tick of the first write
    path.write_text("points: 4\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    keys.append(_stat_key(rules)[0])
    (rules / "more.yaml").write_text("")
    keys.append(_stat_key(rules)[0])
    path.rename(rules / "renamed.yaml")
    keys.append(_stat_key(rules)[0])
    assert len(set(keys)) == len(keys)


def test_no_cache_is_written_while_a_file_is_fresh(cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes of the same size within one clock tick leave the same stat, so a rule set cached
    between them would be served for the second: nothing is cached until every file is settled."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "r.yaml").write_text("rules:\n  - id: MY-RULE\n    title: My own rule\n    channel: contacts\n    severity: low\n"
                                 "    points: 3\n    when: {declared: contacts}\n    rationale: A rule of this team's own policy.\n"
                                 "    sources: [internal]\n")
    monkeypatch.setattr(cachedir, "SETTLED_NS", 3600 * 10**9)  # written just now, however slow this machine
    monkeypatch.setattr(cachedir, "SETTLED_COARSE_NS", 3600 * 10**9)
    assert not _stat_key(mine)[1]
    load_ruleset_cached((mine,))
    assert not list(cache_dir.glob("ruleset-*.json"))
    monkeypatch.setattr(cachedir, "SETTLED_NS", 0)
    monkeypatch.setattr(cachedir, "SETTLED_COARSE_NS", 0)
    assert _stat_key(mine)[1]
    load_ruleset_cached((mine,))
    assert list(cache_dir.glob("ruleset-*.json"))


def test_only_the_newest_cached_rule_sets_are_kept(cache_dir: Path) -> None:
    """Each change of the rules or of the tool writes another cached copy: the folder keeps the
    newest KEPT_CACHED_RULE_SETS (the one just written among them) and nothing else is touched."""
    from auditor.ruleset.ruleset import KEPT_CACHED_RULE_SETS

    cache_dir.mkdir(mode=0o700)
    older = []
    for age in range(KEPT_CACHED_RULE_SETS + 3):
        copy = cache_dir / f"ruleset-{age:032x}.json"
        copy.write_text("{}")
        stamp = time.time() - 1000 - age
        os.utime(copy, (stamp, stamp))
        older.append(copy.name)
    unrelated = cache_dir / "results.sqlite"
    unrelated.write_bytes(b"results")
    load_ruleset_cached()
    left = {p.name for p in cache_dir.glob("ruleset-*.json")}
    assert len(left) == KEPT_CACHED_RULE_SETS
    assert left - set(older) and left & set(older) == set(older[:KEPT_CACHED_RULE_SETS - 1])
    assert unrelated.read_bytes() == b"results"
    assert load_ruleset_cached(write=False) == load_ruleset()  # the copy just written is served
