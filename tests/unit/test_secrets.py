"""No secret in the repository beyond the reviewed local placeholders of ``.secrets.baseline``
(detect-secrets, a maintained scanner from PyPI). Every file git tracks or would add is scanned.

A finding not in the baseline fails this test. If it is a real secret: remove it (real credentials go
to Airflow's secrets backend or ``AIRFLOW_CONN_*`` variables). If it is one more local placeholder:
``.venv/bin/detect-secrets scan --baseline .secrets.baseline`` then ``.venv/bin/detect-secrets audit
.secrets.baseline`` and mark it as not a secret.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import REPO_ROOT

BASELINE = REPO_ROOT / ".secrets.baseline"


def candidate_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return sorted({path for path in listed if (REPO_ROOT / path).is_file() and path != ".secrets.baseline"})


def test_every_baseline_entry_was_reviewed_as_a_local_placeholder() -> None:
    results = json.loads(BASELINE.read_text())["results"]
    unreviewed = [f"{path}:{item['line_number']} {item['type']}" for path, items in results.items()
                  for item in items if item.get("is_secret") is not False]
    assert unreviewed == []


def test_no_secret_beyond_the_reviewed_baseline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from detect_secrets.core import baseline
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    monkeypatch.chdir(REPO_ROOT)  # the baseline names files relative to the repository
    saved = baseline.load_from_file(str(BASELINE))
    with transient_settings({key: saved[key] for key in ("plugins_used", "filters_used")}):
        reviewed = baseline.load(saved, str(BASELINE))
        found = SecretsCollection()
        found.scan_files(*candidate_files())
        new = found - reviewed
    assert not new, "secrets not in .secrets.baseline (see this test's docstring):\n" + "\n".join(
        f"  {path}:{secret.line_number} {secret.type}" for path, secret in new)
