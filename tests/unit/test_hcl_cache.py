"""The parsed-HCL cache: each file parsed once per process, and not at all on a run where no
file changed; anything wrong with the cache file only costs a parse."""

from __future__ import annotations

import json
import os
import stat
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from mck import hcl_cache
from mck.debuglog import for_run
from mck.errors import UsageError
from mck.hcl_cache import CACHE_FILE, HclCache
from mck.preflight import cluster_name, preflight, read_config, variable

PROVIDERS = """
variable "do_token" {
  type      = string
  sensitive = true
}
variable "encryption" {
  type    = string
  default = "mesh"
}
variable "cluster_name" {
  type    = string
  default = "mck-k8s"
}
provider "digitalocean" {
  token = var.do_token
}
resource "digitalocean_droplet" "node" {
  name = "a"
}
"""


@pytest.fixture(autouse=True)
def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new mck process would: nothing parsed yet."""
    monkeypatch.setattr(hcl_cache, "_CACHES", {})


def _project(tmp_path: Path, *, state_dir: bool = True) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "inventory.j2").write_text("")
    (tmp_path / "main.yml").write_text("---\n")
    (tmp_path / "providers.tf").write_text(PROVIDERS)
    (tmp_path / "lab.auto.tfvars").write_text('do_token = "tok-123"\ncluster_name = "c1"\n')
    if state_dir:
        (tmp_path / ".mck").mkdir()
    return tmp_path


def _without_hcl2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import hcl2` fail: a run that still works did not need the parser."""
    monkeypatch.setitem(sys.modules, "hcl2", None)


def test_one_run_parses_each_file_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    env: dict[str, str] = {}
    # What a converge reads: the debug log's credential names, preflight, three variables.
    log = for_run(project, "converge", env)
    assert log is not None
    config = preflight(project, env)
    variable(project, config, env, "encryption")
    variable(project, config, env, "public_api")
    assert cluster_name(project, config, env) == "c1"
    assert hcl_cache.for_project(project).parses == 2  # providers.tf, lab.auto.tfvars


def test_a_second_run_needs_no_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    first = read_config(project)
    assert cluster_name(project, first, {}) == "c1"
    monkeypatch.setattr(hcl_cache, "_CACHES", {})
    _without_hcl2(monkeypatch)
    again = read_config(project)
    assert again == first
    assert cluster_name(project, again, {}) == "c1"
    assert hcl_cache.for_project(project).parses == 0


def test_a_hit_returns_what_a_parse_returns(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "crlf.tf").write_bytes(b'variable "x" {\r\n  default = "a\\nb"\r\n}\r\n')
    parsed = HclCache(project).parse(project / "crlf.tf")
    HclCache(project).save()  # nothing to save: no parse
    cache = HclCache(project)
    assert cache.parse(project / "crlf.tf") == parsed and cache.parses == 1
    cache.save()
    cached = HclCache(project)
    assert cached.parse(project / "crlf.tf") == parsed and cached.parses == 0


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert cluster_name(project, read_config(project), {}) == "c1"
    (project / "lab.auto.tfvars").write_text('do_token = "tok-123"\ncluster_name = "c2"\n')
    # In the same process too: the content decides, not the name.
    assert cluster_name(project, read_config(project), {}) == "c2"
    next_run = HclCache(project)
    assert next_run.parse(project / "lab.auto.tfvars")["cluster_name"] == "c2"
    assert next_run.parses == 0


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"format": 1, "entries": []}',
        b'{"format": 1, "hcl2": "0.0.1", "options": {}, "entries": {}}',
    ],
    ids=["corrupt", "not-utf8", "not-an-object", "no-key", "other-version"],
)
def test_a_bad_or_foreign_cache_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    project = _project(tmp_path)
    (project / CACHE_FILE).write_bytes(content)
    cache = HclCache(project)
    assert cache.parse(project / "providers.tf")["provider"]
    assert cache.parses == 1
    cache.save()
    written = json.loads((project / CACHE_FILE).read_text())
    assert written["hcl2"] == version("python-hcl2")
    assert list(written["entries"]) == ["providers.tf"]


def test_another_parser_version_or_options_invalidate_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    cache = HclCache(project)
    cache.parse(project / "providers.tf")
    cache.save()
    monkeypatch.setattr(hcl_cache, "_parser_version", "99.0.0")
    again = HclCache(project)
    again.parse(project / "providers.tf")
    assert again.parses == 1
    monkeypatch.undo()
    monkeypatch.setattr(hcl_cache, "OPTIONS", {**hcl_cache.OPTIONS, "with_comments": True})
    other = HclCache(project)
    other.parse(project / "providers.tf")
    assert other.parses == 1


def test_parser_version_is_the_installed_one() -> None:
    assert hcl_cache.parser_version() == version("python-hcl2")


def test_a_parse_error_is_one_line_and_never_cached(tmp_path: Path) -> None:
    project = _project(tmp_path)
    read_config(project)
    (project / "r0.tf").write_text('resource "digitalocean_droplet" "x" {\n  name = \n')
    for _ in range(2):  # the same error in the next run too
        hcl_cache._CACHES.clear()
        with pytest.raises(UsageError, match=r"^cannot parse r0\.tf: .*; fix the HCL and retry$"):
            read_config(project)
        assert hcl_cache.for_project(project).parses == 1
        assert "r0.tf" not in json.loads((project / CACHE_FILE).read_text())["entries"]


def test_unreadable_file_is_a_parse_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(UsageError, match=r"^cannot parse gone\.tf: "):
        HclCache(project).parse(project / "gone.tf")


def test_the_cache_is_private(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / CACHE_FILE).write_text("{}")
    os.chmod(project / CACHE_FILE, 0o644)  # an old or hand-made one
    old = os.umask(0)
    try:
        preflight(project, {})
    finally:
        os.umask(old)
    path = project / CACHE_FILE
    assert "tok-123" in path.read_text()  # tfvars values are in it: hence the mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_only_files_that_exist_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    (project / "extra.tf").write_text('variable "y" {\n  default = 2\n}\n')
    read_config(project)
    assert "extra.tf" in json.loads((project / CACHE_FILE).read_text())["entries"]
    (project / "extra.tf").unlink()
    monkeypatch.setattr(hcl_cache, "_CACHES", {})
    _without_hcl2(monkeypatch)
    read_config(project)
    assert list(json.loads((project / CACHE_FILE).read_text())["entries"]) == ["providers.tf"]


def test_child_module_files_are_cached_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    (project / "mod.tf").write_text('module "lin" {\n  source = "./modules/lin"\n}\n')
    (project / "modules" / "lin").mkdir(parents=True)
    (project / "modules" / "lin" / "main.tf").write_text(
        'resource "linode_instance" "n" {\n  label = "a"\n}\n'
    )
    assert read_config(project).providers_used == {"digitalocean", "linode"}
    monkeypatch.setattr(hcl_cache, "_CACHES", {})
    _without_hcl2(monkeypatch)
    assert read_config(project).providers_used == {"digitalocean", "linode"}


def test_nothing_is_written_without_a_state_dir(tmp_path: Path) -> None:
    """A project mck never got past preflight in, or not a project at all: reading it creates
    nothing (bad input leaves nothing behind)."""
    project = _project(tmp_path, state_dir=False)
    (project / "lab.auto.tfvars").unlink()
    with pytest.raises(UsageError, match="missing credentials"):
        preflight(project, {})
    read_config(tmp_path / "templates")
    assert sorted(p.name for p in project.iterdir()) == ["main.yml", "providers.tf", "templates"]
