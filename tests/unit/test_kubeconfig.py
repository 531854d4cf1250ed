"""`mck kubeconfig` without a cluster: the admin kubeconfig microk8s prints (its shape taken from
microk8s-resources/client-x509.config.template), renaming, SAN checks, merging into a user's
kubeconfig, and the file rules (0600, atomic, never clobber a file mck did not write, a
malformed existing file is an error and nothing is written). The node is replaced by a fixed
`Admin`; everything after it is the real code path of the command."""

from __future__ import annotations

import base64
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mck import kubeconfig, kubeconfig_source, run_lock
from mck.cli import main
from mck.errors import ClusterError, MckError, UsageError
from mck.kubeconfig_source import Admin, Request, export
from mck.phases.context import Settings
from mck.report import Ui

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
CERT, KEY = base64.b64encode(b"client-cert").decode(), base64.b64encode(b"SECRET-KEY").decode()
MICROK8S_CONFIG = f"""\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {CA}
    server: https://none:16443
  name: microk8s-cluster
contexts:
- context:
    cluster: microk8s-cluster
    user: admin
  name: microk8s
current-context: microk8s
kind: Config
preferences: {{}}
users:
- name: admin
  user:
    client-certificate-data: {CERT}
    client-key-data: {KEY}

"""
OPENSSL_SANS = """\
X509v3 Subject Alternative Name: \n\
    DNS:kubernetes, DNS:kubernetes.default, DNS:mck-k8s-do-0, IP Address:127.0.0.1, \
IP Address:10.152.183.1, IP Address:198.51.100.10, IP Address:10.77.0.1
"""
OTHER = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "work", "cluster": {"server": "https://work.example:6443"}}],
    "users": [{"name": "me", "user": {"token": "work-token"}}],
    "contexts": [{"name": "work", "context": {"cluster": "work", "user": "me"}}],
    "current-context": "work",
}


def _admin(public_api: bool = True, ip: str = "198.51.100.10") -> Admin:
    cluster, user = kubeconfig.parse_admin(MICROK8S_CONFIG)
    return Admin(
        cluster_name="mck-k8s",
        node="mck-k8s-do-0",
        public_ip=ip,
        ssh_user="root",
        public_api=public_api,
        sans=frozenset(kubeconfig.parse_sans(OPENSSL_SANS)),
        cluster=cluster,
        user=user,
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    monkeypatch.setattr(kubeconfig_source, "read_admin", lambda settings, ui: _admin())
    return path


def _export(project: Path, env: dict[str, str] | None = None, **request: Any) -> tuple[Any, str]:
    err = io.StringIO()
    settings = Settings(project=project, env=env or {"HOME": str(project.parent / "home")})
    written = export(settings, Request(**request), Ui(stream=err, color=False))
    return written, err.getvalue()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_admin_kubeconfig_is_parsed_and_renamed_after_the_cluster() -> None:
    cluster, user = kubeconfig.parse_admin(MICROK8S_CONFIG)
    doc = kubeconfig.standalone("mck-k8s", "https://198.51.100.10:16443", cluster, user)
    assert doc["clusters"] == [
        {
            "name": "mck-k8s",
            "cluster": {"certificate-authority-data": CA, "server": "https://198.51.100.10:16443"},
        }
    ]
    assert doc["users"] == [
        {"name": "mck-k8s-admin", "user": {"client-certificate-data": CERT, "client-key-data": KEY}}
    ]
    assert doc["contexts"] == [
        {"name": "mck-k8s", "context": {"cluster": "mck-k8s", "user": "mck-k8s-admin"}}
    ]
    assert doc["current-context"] == "mck-k8s"


@pytest.mark.parametrize(
    "text",
    ["", "not: [yaml", "apiVersion: v1\n", MICROK8S_CONFIG.replace(CA, "bm90IGEgY2VydA==")],
)
def test_a_broken_admin_kubeconfig_is_an_error_that_never_quotes_it(text: str) -> None:
    with pytest.raises(MckError) as info:
        kubeconfig.parse_admin(text)
    assert KEY not in info.value.message and "SECRET" not in info.value.message


def test_sans_and_coverage() -> None:
    sans = kubeconfig.parse_sans(OPENSSL_SANS)
    assert {"127.0.0.1", "198.51.100.10", "10.77.0.1", "kubernetes", "mck-k8s-do-0"} <= sans
    assert kubeconfig.covered("198.51.100.10", sans)
    assert kubeconfig.covered("127.0.0.1", sans)
    assert not kubeconfig.covered("198.51.100.11", sans)
    assert not kubeconfig.covered("none", sans)
    assert kubeconfig.covered("a.apps.example", {"*.apps.example"})
    assert not kubeconfig.covered("apps.example", {"*.apps.example"})
    assert kubeconfig.server_url("2001:db8::1") == "https://[2001:db8::1]:16443"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:16443", "127.0.0.1:16443", "https://", "https://h:port", "https://h/x"],
)
def test_bad_server_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError, match="is not an API address"):
        kubeconfig.check_server(url)


def test_default_file_is_written_0600_in_the_project(project: Path) -> None:
    written, err = _export(project)
    assert written == project / "kubeconfig"
    assert _mode(written) == 0o600
    text = written.read_text()
    assert text.startswith(kubeconfig.MARK)
    doc = yaml.safe_load(text)
    assert doc["clusters"][0]["cluster"]["server"] == "https://198.51.100.10:16443"
    assert f"wrote {written} (server https://198.51.100.10:16443, from mck-k8s-do-0)" in err
    assert KEY not in err
    assert sorted(p.name for p in project.iterdir()) == ["kubeconfig"]  # no temporary left
    # mck wrote it, so mck may write it again; --destroy's test for it says the same.
    assert kubeconfig.written_by_mck(written)
    _export(project)


def test_a_file_mck_did_not_write_is_not_replaced_without_force(project: Path) -> None:
    mine = project / "kubeconfig"
    mine.write_text("my own notes\n")
    with pytest.raises(UsageError, match="was not written by mck: pass --force"):
        _export(project)
    assert mine.read_text() == "my own notes\n"
    assert not kubeconfig.written_by_mck(mine)
    _export(project, force=True)
    assert kubeconfig.written_by_mck(mine)


def test_stdout_gets_the_kubeconfig(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written, _ = _export(project, output="-")
    assert written is None
    assert yaml.safe_load(capsys.readouterr().out)["current-context"] == "mck-k8s"
    assert list(project.iterdir()) == []


def test_closed_api_port_is_one_warning_with_both_fixes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kubeconfig_source, "read_admin", lambda s, u: _admin(public_api=False))
    _, err = _export(project)
    warning = [line for line in err.splitlines() if "public_api" in line]
    assert len(warning) == 1, err
    assert "public_api = true" in warning[0] and "--server https://127.0.0.1:16443" in warning[0]
    assert "ssh -L 16443:127.0.0.1:16443 root@198.51.100.10" in warning[0]
    # Through a tunnel the server is loopback, which the certificate covers: no warning.
    _, err = _export(project, server="https://127.0.0.1:16443")
    assert "public_api" not in err
    doc = yaml.safe_load((project / "kubeconfig").read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:16443"


def test_an_address_the_certificate_does_not_cover_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ClusterError, match=r"does not cover 203\.0\.113\.5"):
        _export(project, server="https://203.0.113.5:16443")
    monkeypatch.setattr(kubeconfig_source, "read_admin", lambda s, u: _admin(ip="198.51.100.99"))
    with pytest.raises(ClusterError, match=r"does not cover 198\.51\.100\.99"):
        _export(project)
    assert list(project.iterdir()) == []


def test_merge_keeps_other_contexts_and_replaces_only_the_clusters_entries(project: Path) -> None:
    home = project.parent / "home"
    config = home / ".kube" / "config"
    config.parent.mkdir(parents=True)
    stale = kubeconfig.standalone("mck-k8s", "https://old:16443", {"x": 1}, {"token": "old"})
    config.write_text(yaml.safe_dump(kubeconfig.merge(OTHER, stale, use=False)))
    config.chmod(0o644)
    written, err = _export(project, merge=True)
    assert written == config
    assert f"merged context mck-k8s into {config}" in err
    doc = yaml.safe_load(config.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["work", "mck-k8s"]
    assert [c["name"] for c in doc["clusters"]] == ["work", "mck-k8s"]
    assert [u["name"] for u in doc["users"]] == ["me", "mck-k8s-admin"]
    assert doc["users"][0] == OTHER["users"][0]  # untouched
    ours = doc["clusters"][1]["cluster"]
    assert ours["server"] == "https://198.51.100.10:16443" and "x" not in ours
    assert doc["current-context"] == "work"  # kept unless asked
    assert _mode(config) == 0o600
    assert not (project / "kubeconfig").exists()
    # The merged file stays the user's: a plain write over it is refused.
    assert not kubeconfig.written_by_mck(config)
    with pytest.raises(UsageError, match="was not written by mck"):
        _export(project, output=str(config))
    _export(project, merge=True, use=True)
    assert yaml.safe_load(config.read_text())["current-context"] == "mck-k8s"


def test_merge_creates_the_first_kubeconfig_path_0600(project: Path) -> None:
    first, second = project.parent / "a" / "config", project.parent / "b" / "config"
    env = {"KUBECONFIG": f"{first}{os.pathsep}{second}", "HOME": str(project.parent / "home")}
    written, _ = _export(project, env=env, merge=True)
    assert written == first and not second.exists()
    assert _mode(first) == 0o600
    assert yaml.safe_load(first.read_text())["current-context"] == "mck-k8s"  # it had none


def test_merge_through_a_symlink_writes_its_target(project: Path) -> None:
    real = project.parent / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    real.write_text(yaml.safe_dump(OTHER))
    link = project.parent / "link"
    link.symlink_to(real)
    _export(project, output=str(link), merge=True)
    assert link.is_symlink()
    assert [c["name"] for c in yaml.safe_load(real.read_text())["contexts"]] == ["work", "mck-k8s"]


@pytest.mark.parametrize(
    "text,problem",
    [
        ("clusters: [unclosed\n", "is not valid YAML (line 2)"),
        ("- just\n- a list\n", "is not a kubeconfig (not a mapping)"),
        ("kind: Pod\n", "is not a kubeconfig (kind is 'Pod')"),
        ("contexts: {a: b}\n", "contexts is not a list of named context entries"),
    ],
)
def test_a_malformed_kubeconfig_is_a_clear_error_and_nothing_is_written(
    project: Path, text: str, problem: str
) -> None:
    config = project.parent / "config"
    config.write_text(text)
    with pytest.raises(UsageError) as info:
        _export(project, output=str(config), merge=True)
    assert problem in info.value.message and str(config) in info.value.message
    assert "fix or move it" in info.value.message
    assert config.read_text() == text
    assert sorted(p.name for p in config.parent.iterdir()) == ["config", "project"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config"
    path.write_text("old\n")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(MckError, match="No space left on device"):
        kubeconfig.write_private(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config"]


def test_merge_with_stdout_or_use_without_merge_is_refused(project: Path) -> None:
    with pytest.raises(UsageError, match="--merge writes a file"):
        _export(project, output="-", merge=True)


def test_cli_refuses_use_without_merge_before_anything_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "kubeconfig", "--use"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: --use only applies with --merge"
    assert list(tmp_path.iterdir()) == []


def test_cli_outside_a_project_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "kubeconfig"])
    assert result.exit_code == 2
    assert "is not an mck project" in result.output.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_writing_a_file_waits_for_no_run_it_is_refused_while_one_changes_the_project(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A converge or destroy holds the run lock: a kubeconfig written meanwhile could outlive
    the cluster a destroy is removing. Printing it (-o -) writes nothing and is not refused."""
    held = run_lock.acquire(project / ".mck", "destroy")
    try:
        with pytest.raises(UsageError, match=r"another mck run is changing this project: pid "):
            _export(project)
        assert not (project / "kubeconfig").exists()
        assert _export(project, output="-")[0] is None
        assert "current-context: mck-k8s" in capsys.readouterr().out
    finally:
        held.release()
    assert _export(project)[0] == project / "kubeconfig"
