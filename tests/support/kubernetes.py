"""A baked project's Kubernetes manifests as ``kubectl apply -k`` would send them."""

import functools
import json
import re
import shutil

import kubernetes_validate
import pytest
import yaml

from tests.support.processes import require, run
from tests.support.run_folder import computed_once, content_key


def render(baked, tmp_path, *, secret_env=True):
    """``kubectl kustomize`` of a copy of the baked ``deploy/kubernetes``, with
    ``secret.env`` made from the example unless ``secret_env`` is false. The combinations
    whose ``deploy/kubernetes`` folders are byte-identical share one rendering."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(baked.path / "deploy" / "kubernetes", copy)
    if secret_env:
        shutil.copy(copy / "secret.env.example", copy / "secret.env")
    return computed_once(
        "kubectl kustomize",
        content_key(copy, ["."]),
        copy,
        lambda: run([require("kubectl"), "kustomize", copy], check=False),
    )


def manifests(baked, tmp_path):
    """(kind, name) -> manifest, of the rendered kustomization; generated ConfigMap and
    Secret names without their hash suffix."""
    __tracebackhide__ = True
    result = render(baked, tmp_path)
    if result.returncode != 0:
        pytest.fail(result.report, pytrace=False)
    rendered = {}
    for manifest in yaml.safe_load_all(result.stdout):
        name = manifest["metadata"]["name"]
        if manifest["kind"] in ("ConfigMap", "Secret"):
            name = name.rsplit("-", 1)[0]
        rendered[manifest["kind"], name] = manifest
    return rendered


def env_file(text, *, commented=False):
    """KEY -> value of an env file (config.env, secret.env.example); with ``commented``,
    the ``# KEY=value`` lines too."""
    prefix = r"(?:#\s*)?" if commented else ""
    return dict(re.findall(rf"^{prefix}([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))


def kubernetes_file(baked, name):
    return (baked.path / "deploy" / "kubernetes" / name).read_text()


def pod_spec(manifest):
    return manifest["spec"]["template"]["spec"]


def container(manifest, name):
    (found,) = [c for c in pod_spec(manifest)["containers"] if c["name"] == name]
    return found


def dockerfile_cmd(baked):
    """The image's start command: the Dockerfile's CMD."""
    dockerfile = (baked.path / "Dockerfile").read_text()
    return json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)[1])


@functools.cache
def validated(manifest_json, version):
    """kubernetes-validate's complaint about one manifest (JSON), or None; once per run of
    a worker for each distinct manifest."""
    try:
        kubernetes_validate.validate(json.loads(manifest_json), version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return ".".join(map(str, error.path)), error.message
    return None


def problems(manifest, versions):
    """What kubernetes-validate finds wrong in ``manifest``, strictly (an unknown field is
    an error), for each Kubernetes version of ``versions``: one line each."""
    found = []
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    for version in versions:
        if complaint := validated(json.dumps(manifest, sort_keys=True), version):
            found.append(f"{kind} {name}, Kubernetes {version}: {complaint[0]}: {complaint[1]}")
    return found
