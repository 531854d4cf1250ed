"""FelixConfiguration `default` as the stand-in serves it to the real kubectl.

Pure parts (the merge patch, schema checks) are tested directly. The `lab` tests form a
two-node cluster and check that the object is cluster state: patched through one member's
`microk8s kubectl` (the real kubectl), read the same from the other, with the API server's
answers (patched / no change, 415, 404, 422). The VMs are deleted afterwards.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from mk8s import felix

from tests.lab.host import Host
from tests.lab.lab import Lab

OBJ = felix.default_object(0.0, "3f1e9d36-1b4b-5bb6-9a4e-000000000000")

# ---------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    patch = {"a": "z", "c": {"f": None}}
    assert felix.merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}}
    assert felix.merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert felix.merge_patch({"a": {"b": "c"}}, {"a": "x"}) == {"a": "x"}
    assert felix.merge_patch({"a": "b"}, ["c"]) == ["c"]
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}  # the input is left alone


def test_enabling_wireguard_bumps_resource_version_and_generation() -> None:
    new, warnings = felix.patched(OBJ, {"spec": {"wireguardEnabled": True}})
    assert warnings == []
    assert new["spec"] == {**felix.DEFAULT_SPEC, "wireguardEnabled": True}
    assert new["metadata"]["resourceVersion"] == "2"
    assert new["metadata"]["generation"] == 2
    again, _ = felix.patched(new, {"spec": {"wireguardEnabled": True}})
    assert again is new  # unchanged: kubectl says "patched (no change)"


def test_unknown_spec_fields_are_pruned_with_a_warning() -> None:
    new, warnings = felix.patched(OBJ, {"spec": {"wireguardEnabeld": True}})
    assert warnings == ['unknown field "spec.wireguardEnabeld"']
    assert new is OBJ


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"spec": {"wireguardEnabled": "true"}},
            'spec.wireguardEnabled: Invalid value: "string": '
            'spec.wireguardEnabled in body must be of type boolean: "true"',
        ),
        ({"metadata": {"name": "other"}}, 'metadata.name: Invalid value: "default"'),
        ({"kind": "IPPool"}, "kind: Invalid value"),
        (["spec"], "the patch must be a JSON object"),
    ],
)
def test_schema_violations_are_invalid(patch: object, message: str) -> None:
    with pytest.raises(felix.Invalid, match="^" + message.replace("(", r"\(")):
        felix.patched(OBJ, patch)


def test_every_member_derives_the_same_default_object() -> None:
    cluster = {"cluster_id": "abc", "nodes": [{"created": 5.0}, {"created": 3.0}]}
    assert felix.current(cluster) == felix.current(json.loads(json.dumps(cluster)))
    assert felix.current(cluster)["metadata"]["creationTimestamp"] == "1970-01-01T00:00:03Z"


# ---------------------------------------------------------------------------------------------
# Lab: two members share the object
# ---------------------------------------------------------------------------------------------

PATH = "/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOKEN = "felix-join-token-0123456789abcdef"
KUBECTL = ["microk8s", "kubectl"]
ENABLE = '{"spec":{"wireguardEnabled":true}}'


def _run(host: Host, *argv: str) -> tuple[int, str, str]:
    done = host.run(["env", f"PATH={PATH}", *argv], check=False, timeout=60)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def pair(lab: Lab) -> Iterator[list[Host]]:
    prefix = "f" + secrets.token_hex(2)[:3]
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(lab.create_host, "digitalocean", f"{prefix}{k}", [lab.ssh_pubkey])
            for k in (1, 2)
        ]
    made = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            future.result()
        install = ("snap", "install", "microk8s", "--classic", "--channel=1.32/stable")
        with ThreadPoolExecutor(2) as pool:
            for rc, out, err in pool.map(lambda h: _run(h, *install), made):
                assert rc == 0, out + err
        h1, h2 = made
        assert _run(h1, "microk8s", "add-node", "--token", TOKEN)[0] == 0
        rc, out, err = _run(h2, "microk8s", "join", f"{h1.public_ip}:25000/{TOKEN}")
        assert rc == 0, out + err
        for host in made:
            rc, out, err = _run(host, "microk8s", "status", "--wait-ready", "--timeout", "20")
            assert rc == 0, out + err
        yield made
    finally:
        for vm in made:
            lab.delete_host(vm.id)


def _wireguard(host: Host) -> str:
    get = (*KUBECTL, "get", "felixconfiguration", "default", "-o")
    rc, out, err = _run(host, *get, "jsonpath={.spec.wireguardEnabled}")
    assert rc == 0, err
    return out


@pytest.mark.lab
def test_default_exists_on_every_member(pair: list[Host]) -> None:
    h1, h2 = pair
    rc, out, _ = _run(h1, *KUBECTL, "get", "felixconfiguration", "default", "-o", "json")
    assert rc == 0
    obj = json.loads(out)
    assert (obj["apiVersion"], obj["kind"]) == ("crd.projectcalico.org/v1", "FelixConfiguration")
    assert obj["spec"] == felix.DEFAULT_SPEC
    rc, out, err = _run(h2, *KUBECTL, "get", "felixconfigurations", "-o", "json")
    assert rc == 0, err
    assert json.loads(out)["items"] == [obj]
    rc, out, _ = _run(h2, *KUBECTL, "get", "felixconfiguration")
    assert (rc, out.split()[:3]) == (0, ["NAME", "CREATED", "AT"])
    assert out.splitlines()[1].startswith("default   ")
    assert _wireguard(h1) == ""


@pytest.mark.lab
def test_patch_on_one_member_is_seen_by_the_other(pair: list[Host]) -> None:
    h1, h2 = pair
    patch = (*KUBECTL, "patch", "felixconfiguration", "default", "--type", "merge", "-p", ENABLE)
    assert _run(h2, *patch) == (0, "felixconfiguration.crd.projectcalico.org/default patched\n", "")
    assert _wireguard(h2) == "true"
    deadline = time.monotonic() + 5
    while _wireguard(h1) != "true" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _wireguard(h1) == "true"
    assert _run(h1, *patch) == (
        0,
        "felixconfiguration.crd.projectcalico.org/default patched (no change)\n",
        "",
    )
    rc, out, _ = _run(h1, *KUBECTL, "get", "felixconfiguration", "default", "-o", "yaml")
    assert rc == 0 and "  wireguardEnabled: true\n" in out + "\n"
    assert "  generation: 2\n" in out


@pytest.mark.lab
def test_kubectl_errors_exit_1_like_kubectl(pair: list[Host]) -> None:
    h1 = pair[0]
    patch = (*KUBECTL, "patch", "felixconfiguration")
    rc, out, err = _run(h1, *patch, "default", "--type", "merge", "-p", "{bad")
    assert (rc, out) == (1, "") and err.startswith("Error from server (BadRequest): "), err
    rc, _, err = _run(h1, *patch, "default", "-p", ENABLE)  # strategic: not for a CRD
    assert rc == 1 and "is not supported by crd.projectcalico.org/v1" in err
    rc, _, err = _run(h1, *patch, "other", "--type", "merge", "-p", ENABLE)
    assert (rc, err) == (
        1,
        'Error from server (NotFound): felixconfigurations.crd.projectcalico.org "other" '
        "not found\n",
    )
    bad_type = '{"spec":{"wireguardEnabled":"yes"}}'
    rc, _, err = _run(h1, *patch, "default", "--type", "merge", "-p", bad_type)
    assert rc == 1 and err.startswith('The FelixConfiguration "default" is invalid: ')
    rc, out, err = _run(h1, *KUBECTL, "get", "felixconfiguration", "--no-headers")
    assert rc == 0 and out.split()[0] == "default", err
    rc, _, err = _run(h1, *KUBECTL, "get", "ippools")  # a Calico CRD the stand-in does not serve
    assert rc == 1 and 'the server doesn\'t have a resource type "ippools"' in err
    assert _wireguard(h1) == "true"  # none of that changed anything
