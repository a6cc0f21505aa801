"""The command-line contract CI relies on (issue 15): baselines, exit codes, -o checks, interrupts,
JSONL resume, the end-of-run summary, and the smaller promises of the README."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from auditor.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BENIGN = str(FIXTURES / "apk" / "benign.apk")
UPLOAD = str(FIXTURES / "apk" / "contacts_upload.apk")
V1 = str(FIXTURES / "apk" / "app_v1.apk")
V2 = str(FIXTURES / "apk" / "app_v2.apk")


def run(*args: str, **kwargs: object) -> Result:
    return CliRunner().invoke(main, list(args), **kwargs)  # type: ignore[arg-type]


def test_one_line_jsonl_baseline_is_read(tmp_path: Path) -> None:
    baseline = tmp_path / "b.jsonl"
    run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(baseline), V2)
    assert len(baseline.read_text().splitlines()) == 1
    again = run("scan", "--jobs", "1", "--baseline", str(baseline), "--fail-on", "low", "-f", "json", V2)
    assert again.exit_code == 0, again.output
    assert {f["baseline_state"] for f in json.loads(again.stdout)["apps"][0]["findings"]} == {"unchanged"}


def test_files_that_cannot_be_a_baseline_are_rejected(tmp_path: Path) -> None:
    sarif = tmp_path / "b.sarif"
    run("scan", "--jobs", "1", "-f", "sarif", "-o", str(sarif), V2)
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    for bad in (sarif, empty, listed):
        result = run("scan", "--jobs", "1", "--baseline", str(bad), V2)
        assert result.exit_code == 2, bad
        assert "not a JSON or JSONL report" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_usage_and_input_errors_exit_two_not_one(tmp_path: Path) -> None:
    bad_rules = tmp_path / "rules"
    (bad_rules / "exposure").mkdir(parents=True)
    (bad_rules / "exposure" / "bad.yaml").write_text("rules:\n  - id: 7\n")
    assert run("scan", "--jobs", "1", "--rules", str(bad_rules), BENIGN).exit_code == 2
    assert run("rules", "list", "--rules", str(bad_rules)).exit_code == 2
    assert run("explain", "NO_SUCH_THING").exit_code == 2
    assert run("rules", "show", "CEA-NO-SUCH-RULE").exit_code == 2
    assert run("policies", "show", "no-such-policy").exit_code == 2


def test_an_internal_error_exits_two_with_its_traceback(monkeypatch) -> None:
    import auditor.explain

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(auditor.explain, "explain", broken)
    result = run("explain", "READ_CONTACTS")
    assert result.exit_code == 2
    assert "RuntimeError: boom" in result.stderr and "internal error" in result.stderr


def test_broken_pipe_exits_quietly() -> None:
    import subprocess
    import sys

    # `auditor rules list | true`: the reader is gone before the first write (start-up takes far longer)
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "rules", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    code = proc.wait(60)
    stderr = proc.stderr.read().decode()
    assert code == 141, (code, stderr)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_console_entry_exits_with_the_commands_code_and_all_its_output(tmp_path: Path) -> None:
    """`python -m auditor` ends without the interpreter's teardown (cli.main.run): the exit code is
    still the command's (0, 1 for --fail-on, 2 for an error), every byte written to a pipe arrives,
    and atexit handlers still run (logging's flush among them)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path / "c")}

    def entry(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    listed = entry("rules", "list")
    assert listed.returncode == 0, listed.stderr
    expected = run("rules", "list")
    assert listed.stdout == expected.stdout and len(listed.stdout) > 2000  # every byte came through the pipe
    failing = entry("scan", "--no-cache", "-q", "-f", "json", "--fail-on", "low", UPLOAD)
    assert failing.returncode == 1, failing.stderr
    assert json.loads(failing.stdout)["apps"][0]["status"] == "ok"
    broken = entry("scan", "--no-cache", "-q", "-f", "json", str(tmp_path / "missing.apk"))
    assert broken.returncode == 2
    hook = "import atexit, sys; atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
    wrapped = subprocess.run([sys.executable, "-c", hook + "from auditor.cli.main import run\nsys.argv[0] = 'auditor'\nrun()",
                              "rules", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert wrapped.returncode == 0 and "atexit ran" in wrapped.stderr


def test_output_into_a_missing_folder_is_refused_before_the_batch(tmp_path: Path, monkeypatch) -> None:
    import auditor.reports.scan

    def no_batch(*args: object, **kwargs: object) -> None:
        raise AssertionError("the batch ran although -o cannot be written")

    monkeypatch.setattr(auditor.reports.scan, "run_batch", no_batch)
    for fmt in ("json", "jsonl", "html"):
        result = run("scan", "--jobs", "1", "-f", fmt, "-o", str(tmp_path / "missing" / "r.out"), BENIGN)
        assert result.exit_code == 2 and "does not exist" in result.stderr, result.output
        assert "Traceback" not in result.output
    for command in (("compare",), ("diff", V1)):
        result = run(*command, "-o", str(tmp_path / "missing" / "r.out"), V2)
        assert result.exit_code == 2 and "does not exist" in result.stderr, result.output


def test_output_that_names_an_input_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app.apk"
    app.write_bytes(Path(BENIGN).read_bytes())
    before = app.read_bytes()
    result = run("scan", "--jobs", "1", "-f", "json", "-o", str(app), str(app))
    assert result.exit_code == 2 and "one of the inputs" in result.stderr
    folder = run("scan", "--jobs", "1", "-f", "json", "-o", str(tmp_path / "." / "app.apk"), str(tmp_path))
    assert folder.exit_code == 2 and "one of the inputs" in folder.stderr
    assert app.read_bytes() == before


SLOW_WRAPPER = """
import os, sys, time
from auditor.executors import Task
audit = Task.__call__
def slow(self, path):
    if os.path.basename(path).startswith("slow"):
        open(os.environ["MARKER"], "w").close()
        time.sleep(60)
    return audit(self, path)
Task.__call__ = slow
from auditor.cli import main
sys.argv[0] = "auditor"
main()
"""


def _interrupted_run(tmp_path: Path, fmt: str, jobs: str = "1") -> tuple[int, str, Path]:
    """Run a scan in its own session, Ctrl-C it (SIGINT to the process group, as a terminal does)
    while the third file is being analysed; (exit code, stderr, -o file)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    apps = tmp_path / "apps"
    apps.mkdir(exist_ok=True)
    for name in ("a.apk", "b.apk", "slow.apk", "z.apk"):
        (apps / name).write_bytes(Path(BENIGN).read_bytes())
    marker, out = tmp_path / f"started-{fmt}", tmp_path / f"report.{fmt}"
    env = {**os.environ, "MARKER": str(marker), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRAPPER, "scan", "--no-cache", "--jobs", jobs, "-f", fmt, "-o", str(out),
                             *(str(apps / n) for n in ("a.apk", "b.apk", "slow.apk", "z.apk"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr.decode(), out


def test_ctrl_c_stops_quietly_and_keeps_what_is_done(tmp_path: Path) -> None:
    code, stderr, out = _interrupted_run(tmp_path, "json")
    assert code == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("auditor: interrupted: 2 of 4 files done"), stderr
    report = json.loads(out.read_text())
    assert report["incomplete"] == {"done": 2, "total": 4}
    assert [Path(a["input"]).name for a in report["apps"]] == ["a.apk", "b.apk"]
    assert all(a["status"] == "ok" for a in report["apps"]), "the file in progress is dropped, not reported as failed"


def test_ctrl_c_marks_every_non_streamed_format_incomplete(tmp_path: Path) -> None:
    for fmt, mark in (("table", "Incomplete"), ("markdown", "Incomplete"), ("html", "Incomplete"), ("sarif", '"executionSuccessful": false')):
        code, stderr, out = _interrupted_run(tmp_path, fmt, jobs="2")
        assert code == 130 and "Traceback" not in stderr, stderr
        assert mark in out.read_text(), fmt


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return out


def _twins(tmp_path: Path) -> list[str]:
    """A small batch holding identical twins (same bytes, other paths)."""
    apps = tmp_path / "apps"
    (apps / "copy").mkdir(parents=True)
    for name, source in (("a.apk", BENIGN), ("copy/a.apk", BENIGN), ("u.apk", UPLOAD), ("copy/u.apk", UPLOAD)):
        (apps / name).write_bytes(Path(source).read_bytes())
    return [str(apps / n) for n in ("a.apk", "copy/a.apk", "copy/u.apk", "u.apk")]


def test_jsonl_resume_goes_by_path_so_twins_each_get_their_line(tmp_path: Path) -> None:
    files = _twins(tmp_path)
    out = tmp_path / "r.jsonl"
    run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), files[0], files[3])
    result = run("scan", "--jobs", "2", "-f", "jsonl", "-o", str(out), *files)
    assert sorted(str(line["input"]) for line in _lines(out)) == sorted(files)
    assert "resuming: 2 of 4 already done" in result.stderr


def test_error_lines_for_missing_inputs_are_not_appended_again(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    gone = str(tmp_path / "gone.apk")
    for _ in range(3):
        run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), BENIGN, gone)
    assert sorted(str(line["input"]) for line in _lines(out)) == sorted([BENIGN, gone])


def test_a_changed_file_replaces_its_line_and_other_inputs_are_kept_and_counted(tmp_path: Path) -> None:
    files = _twins(tmp_path)
    out = tmp_path / "r.jsonl"
    run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), *files)
    Path(files[0]).write_bytes(Path(UPLOAD).read_bytes())  # a new build under the same name
    result = run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), files[0], files[1])
    lines = _lines(out)
    assert sorted(str(line["input"]) for line in lines) == sorted(files), "one line per input, the stale one replaced"
    assert next(line for line in lines if line["input"] == files[0])["package"] == "com.cea.fixture.contactsupload"
    assert "resuming: 1 of 2 already done" in result.stderr and "2 lines for other inputs" in result.stderr


def test_fresh_starts_the_jsonl_over(tmp_path: Path) -> None:
    files = _twins(tmp_path)
    out = tmp_path / "r.jsonl"
    run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), *files)
    result = run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), "--fresh", files[2])
    assert [line["input"] for line in _lines(out)] == [files[2]]
    assert "resuming" not in result.stderr


def test_kills_at_random_points_leave_exactly_one_line_per_input(tmp_path: Path) -> None:
    """kill -9, SIGTERM and Ctrl-C (SIGINT to the process group) at random points, then a run to the end."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    files = _twins(tmp_path)
    gone = str(tmp_path / "apps" / "gone.apk")
    out = tmp_path / "r.jsonl"
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "auditor", "scan", "-q", "--no-cache", "--jobs", "2", "-f", "jsonl", "-o", str(out),
               str(tmp_path / "apps"), gone]
    rng = random.Random(15)
    kills = 0
    for _ in range(10):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.0, 2.0))
        sig = rng.choice([signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
        if proc.poll() is None:
            os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
            kills += 1
        proc.wait(60)
    final = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert final.returncode == 2, final.stderr  # the missing input is an error result
    inputs = [str(line["input"]) for line in _lines(out)]
    assert sorted(inputs) == sorted([*files, gone]), f"after {kills} kills: {inputs}"


def test_a_summary_line_ends_every_scan(tmp_path: Path) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"not a zip")
    result = run("scan", "--jobs", "2", "-f", "json", "--fail-on", "high", UPLOAD, BENIGN, str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "auditor: 3 files: 2 ok, 1 error; worst band: high; 1 reached --fail-on high"
    clean = run("scan", "--jobs", "1", "-f", "json", BENIGN)
    assert clean.stderr.strip().splitlines()[-1] == "auditor: 1 file: 1 ok, 0 errors; worst band: none"
    assert run("scan", "--jobs", "1", "-q", BENIGN).stderr == "", "-q keeps a clean run silent"
    assert "1 error" in run("scan", "--jobs", "1", "-q", str(bad)).stderr, "-q still says that inputs failed"


def test_no_input_found_warns_and_exits_two(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no apps here")
    for command in (("scan", "--fail-on", "low"), ("compare",)):
        result = run(*command, str(tmp_path / "empty"))
        assert result.exit_code == 2, command
        assert "no input found" in result.stderr


def test_vv_logs_each_file_and_the_run_setup(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for args in (["-vv", "scan"], ["scan", "-vv"]):
        proc = subprocess.run([sys.executable, "-m", "auditor", *args, "--jobs", "1", "-f", "json", BENIGN],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert f"{BENIGN}: ok, band none" in proc.stderr, proc.stderr
        assert "rules sha256:" in proc.stderr and "1 input" in proc.stderr


def test_language_and_explain_subjects_ignore_case() -> None:
    assert run("scan", "--jobs", "1", "--lang", "zh-cn", "-f", "markdown", UPLOAD).exit_code == 0
    lower = run("explain", "read_contacts")
    assert lower.exit_code == 0 and lower.stdout == run("explain", "READ_CONTACTS").stdout
    assert run("explain", "cea-contacts-upload").exit_code == 0
    assert run("rules", "show", "cea-contacts-upload").exit_code == 0
    assert run("policies", "show", "GOOGLE-PLAY-FINANCIAL").exit_code == 0


def test_standard_input_and_dev_fd_are_inputs(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import threading

    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    data = Path(UPLOAD).read_bytes()
    stdin = subprocess.run([sys.executable, "-m", "auditor", "scan", "--jobs", "1", "-f", "json", "-"], input=data,
                           capture_output=True, env=env, timeout=120)
    app = json.loads(stdin.stdout)["apps"][0]
    assert (app["input"], app["status"], app["package"]) == ("-", "ok", "com.cea.fixture.contactsupload"), stdin.stderr

    read_end, write_end = os.pipe()  # what `auditor scan <(cat app.apk)` hands over

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)

    threading.Thread(target=feed, daemon=True).start()
    fd_path = f"/dev/fd/{read_end}"
    piped = subprocess.run([sys.executable, "-m", "auditor", "scan", "--jobs", "1", "-f", "json", fd_path],
                           capture_output=True, env=env, timeout=120, pass_fds=(read_end,))
    os.close(read_end)
    app = json.loads(piped.stdout)["apps"][0]
    assert (app["input"], app["status"]) == (fd_path, "ok"), piped.stderr


def test_readme_and_hints_say_what_works() -> None:
    from auditor.executors.dask import INSTALL_HINT

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "`when`" in readme and "severity, condition, points" not in readme, "rules say when:, not condition:"
    assert "contact-exposure-auditor[dask]" in INSTALL_HINT, "'.[dask]' only works inside a checkout"


def test_version_names_the_rules_digest_and_androguard() -> None:
    from importlib import metadata

    import auditor
    from auditor.ruleset.ruleset import load_ruleset_cached

    result = run("--version")
    assert result.exit_code == 0
    assert f"auditor {auditor.__version__}" in result.stdout
    assert f"rules {load_ruleset_cached(()).digest}" in result.stdout
    assert f"androguard {metadata.version('androguard')}" in result.stdout
    assert "dex reader C extension" in result.stdout or "dex reader pure Python" in result.stdout


def test_cache_info_shows_location_size_and_entries(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "c"))
    empty = run("cache", "info")
    assert empty.exit_code == 0 and f"location: {tmp_path / 'c'}" in empty.stdout and "entries: 0" in empty.stdout
    run("scan", "--jobs", "1", BENIGN, UPLOAD)
    full = run("cache", "info").stdout
    assert "entries: 2" in full
    size = int(full.split("MiB (")[1].split(" bytes")[0])
    assert size > 0
    run("cache", "clear")
    assert "entries: 0" in run("cache", "info").stdout and "rule sets: 0" in run("cache", "info").stdout


def test_compare_has_fail_on_limits_and_no_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "c"))
    assert run("compare", "--jobs", "1", "--no-cache", "--fail-on", "high", UPLOAD, BENIGN).exit_code == 1
    assert run("compare", "--jobs", "1", "--no-cache", "--fail-on", "critical", UPLOAD, BENIGN).exit_code == 0
    assert "entries: 0" in run("cache", "info").stdout, "--no-cache wrote to the cache"
    limited = run("compare", "--jobs", "1", "--no-cache", "--max-entries", "1", "-f", "json", UPLOAD, BENIGN)
    assert limited.exit_code == 2 and "--max-entries" in limited.stdout
    assert run("compare", "--jobs", "1", UPLOAD, BENIGN).exit_code == 0
    assert "entries: 2" in run("cache", "info").stdout, "compare uses the result cache like scan"


NO_FORK_WRAPPER = """
import sys, multiprocessing
sys.modules["resource"] = None  # as on Windows: import resource raises ImportError
multiprocessing.get_all_start_methods = lambda: ["spawn"]  # as on Windows: no fork
from auditor.cli import main
sys.argv[0] = "auditor"
main()
"""


def test_scan_degrades_where_fork_and_resource_are_missing(tmp_path: Path) -> None:
    """What Windows lacks (fork, resource, prctl), forced on Linux: the scan still works, one file
    after another in-process, says so once, and bad input is still an error result."""
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"not a zip")
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path / "c"), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for jobs in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", NO_FORK_WRAPPER, "scan", "--jobs", jobs, "--no-cache", "-f", "json", UPLOAD, str(bad)],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 2, proc.stderr
        apps = {Path(a["input"]).name: a for a in json.loads(proc.stdout)["apps"]}
        assert apps["contacts_upload.apk"]["band"] == "high" and apps["bad.apk"]["status"] == "error"
        assert proc.stderr.count("no fork on this platform") == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_config_file_sets_defaults_and_the_command_line_wins(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.auditor]\nfail-on = "high"\nformat = "json"\n'
                                            'policy = ["google-play-financial"]\nmax-entries = 100000\n')
    monkeypatch.chdir(project / "sub")  # found in a parent folder, as git and ruff find theirs
    configured = run("scan", "--jobs", "1", UPLOAD)
    assert configured.exit_code == 1, configured.output
    app = json.loads(configured.stdout)["apps"][0]
    assert [p["policy"] for p in app["policies"]] == ["google-play-financial"]
    assert run("scan", "--jobs", "1", "--fail-on", "critical", UPLOAD).exit_code == 0
    assert "contacts" in run("scan", "--jobs", "1", "-f", "table", UPLOAD).stdout.splitlines()[0]
    assert run("compare", "--jobs", "1", UPLOAD).exit_code == 1, "compare takes fail-on from the config too"

    (project / ".auditor.toml").write_text('max-entries = 1\nrules = "my-rules"\n')  # beats pyproject.toml in the same folder
    (project / "my-rules" / "exposure").mkdir(parents=True)
    limited = run("scan", "--jobs", "1", "-f", "json", UPLOAD)
    assert limited.exit_code == 2 and "--max-entries" in limited.stdout

    (project / ".auditor.toml").write_text('fail_on = "high"\n')
    wrong = run("scan", "--jobs", "1", UPLOAD)
    assert wrong.exit_code == 2 and ".auditor.toml: unknown key fail_on" in wrong.stderr


def test_config_in_pyproject_is_found_however_toml_spells_it(tmp_path: Path, monkeypatch) -> None:
    """[tool.auditor] is found in every TOML spelling, and a pyproject.toml that cannot hold it (this
    repository's own: an `auditor` script, [tool.*] tables of other tools) is not even parsed."""
    import sys

    from auditor.config import find_config

    spellings = ['[tool.auditor]\nformat = "json"\n', '[ tool . "auditor" ]\nformat = "json"\n', '[tool]\nauditor = {format = "json"}\n',
                 'tool.auditor.format = "json"\n', 'tool = {auditor = {format = "json"}}\n', '["\\u0074ool".auditor]\nformat = "json"\n']
    for i, text in enumerate(spellings):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "pyproject.toml").write_text(text)
        assert find_config(folder) == folder / "pyproject.toml", text
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project.scripts]\nauditor = "auditor.cli.main:run"\n\n[tool.ruff]\nline-length = 150\n')
    monkeypatch.setitem(sys.modules, "tomllib", None)  # parsing it would now fail
    assert find_config(other) is None
