"""The stand-in providers' pure parts, without terraform: key checks and fingerprints, the AMI
catalogue's DescribeImages semantics, the mirror installer's output."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.standins.providers import aws_ami, aws_common, sshkeys
from tests.standins.providers.cloud_api import CloudError
from tests.standins.providers.framework import complete, null_if_unset
from tests.standins.providers.install import STAND_INS, install

# Keys and the fingerprints `ssh-keygen -E md5 -l` / `ssh-keygen -l` printed for them.
ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPLrpDzq1Lrk0RiW+7JQ9Zu6hsET0mF3tV/KclM+zXv2 smoke@lab"
)
ED25519_MD5 = "b8:5d:78:09:c1:00:42:22:9b:51:51:f7:6a:fe:e3:e3"
ED25519_SHA256 = "TKlzx3Wd+34GcCG4lt3eruXdF4Bwidc0g4F5FAm7pWA"
RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCgsanOEyagX7EMed6gAa/eJwT+bj+5QW34BHmUOKlexUsIG8bhd6Yoo"
    "W9BaYwucrO/GivYSY+h1OQf+7ze5rcFn6qKU57cDFSHlLM9YJK81/N3tXrYVBZPxAvuLL72vJf99CALVC8G8Xj4wI2zM6"
    "aZsVgUDKBhXsvSFhrjvRhUMQ== rsa@lab"
)
RSA_MD5 = "d8:95:62:5b:d0:6b:50:f6:d5:ce:52:32:9e:90:2f:36"


def test_fingerprints_match_ssh_keygen() -> None:
    assert sshkeys.md5_fingerprint(ED25519) == ED25519_MD5
    assert sshkeys.md5_fingerprint(RSA + "\n") == RSA_MD5
    # AWS shows an imported ED25519 key's SHA-256 with base64 padding, ssh-keygen without
    assert sshkeys.sha256_fingerprint(ED25519) == ED25519_SHA256 + "="


@pytest.mark.parametrize(
    "line",
    [
        "",
        "ssh-ed25519",
        "ssh-foo AAAA",
        "ssh-ed25519 not*base64",
        RSA.replace("ssh-rsa", "ssh-ed25519"),  # the blob names its own type
    ],
)
def test_malformed_keys_are_refused(line: str) -> None:
    with pytest.raises(sshkeys.InvalidKey):
        sshkeys.key_blob(line)


def test_describe_images_owner_wildcard_and_newest() -> None:
    found = aws_ami.describe_images(
        "eu-central-1", ["136693071363"], [{"name": "name", "values": ["debian-12-amd64-*"]}]
    )
    assert [i.name for i in found] == [
        "debian-12-amd64-20240717-1811",
        "debian-12-amd64-20241004-1890",
    ]
    assert aws_ami.describe_images("eu-central-1", ["amazon"], [])[0].owner_alias == "amazon"
    assert aws_ami.describe_images("eu-central-1", ["self"], []) == []


def test_describe_images_refuses_an_unknown_filter() -> None:
    with pytest.raises(CloudError, match="InvalidParameterValue: The filter 'nme' is invalid"):
        aws_ami.describe_images("us-east-1", [], [{"name": "nme", "values": ["x"]}])


def test_image_ids_are_per_region_and_stable() -> None:
    image = aws_ami.CATALOGUE[0]
    assert image.image_id("us-east-1") == image.image_id("us-east-1")
    assert image.image_id("us-east-1") != image.image_id("eu-west-1")
    assert aws_ami.find("eu-west-1", image.image_id("eu-west-1")) == image
    assert aws_ami.find("us-east-1", image.image_id("eu-west-1")) is None


def test_zone_ids_and_default_network_ids() -> None:
    assert aws_common.zone_id("us-east-1", "us-east-1b") == "use1-az2"
    assert aws_common.zone_id("eu-central-1", "eu-central-1a") == "euc1-az1"
    vpc = aws_common.default_vpc_id("us-east-1")
    assert (
        vpc.startswith("vpc-") and len(vpc) == 21 and vpc != aws_common.default_vpc_id("eu-west-1")
    )


def test_tags_all_follows_default_tags_and_own_tags_drop_them() -> None:
    defaults = {"Project": "mck"}
    on_object = aws_common.all_tags(defaults, {"Name": "n"})
    assert on_object == {"Project": "mck", "Name": "n"}
    assert aws_common.own_tags(defaults, on_object, {"Name": "n"}) == {"Name": "n"}
    assert aws_common.own_tags(defaults, defaults, None) is None  # unset stays unset


def test_complete_fills_the_schema_and_refuses_strays() -> None:
    schema = aws_ami.Ami.get_schema()
    full = complete(schema, {"id": "ami-1"})
    assert full["id"] == "ami-1" and full["name"] is None and full["filter"] == []
    with pytest.raises(KeyError):
        complete(schema, {"not_an_attribute": 1})


def test_null_if_unset_keeps_null_only_for_empty_values() -> None:
    assert null_if_unset(None, []) is None and null_if_unset(None, False) is None
    assert null_if_unset(None, ["a"]) == ["a"] and null_if_unset([], []) == []


def test_install_writes_executable_wrappers_and_an_offline_cli_config(tmp_path: Path) -> None:
    config = install(tmp_path / "m", python="/opt/py/bin/python3")
    text = config.read_text()
    assert "filesystem_mirror" in text and "direct" not in text
    assert "disable_checkpoint = true" in text
    for s in STAND_INS:
        found = list((tmp_path / "m" / "providers").glob(f"*/{s.namespace}/{s.type}/*/*/*"))
        assert [p.name for p in found] == [f"terraform-provider-{s.type}_v{s.version}"]
        wrapper = found[0]
        assert wrapper.stat().st_mode & stat.S_IXUSR
        body = wrapper.read_text()
        assert body.startswith("#!/bin/sh\n")
        assert f"exec /opt/py/bin/python3 -m {s.module} " in body
        assert f"PYTHONPATH={Path(__file__).resolve().parents[3]}" in body
    assert os.access(config, os.R_OK)
