"""Every combination's Kubernetes manifests render and are valid, and they deploy what the
project needs.

``kubectl kustomize deploy/kubernetes`` renders the kustomization, as ``kubectl apply -k``
would, from a copy whose ``secret.env`` is the committed example; kubernetes-validate
checks every rendered manifest, strictly (no unknown field), against the schemas of the
oldest and the newest Kubernetes it ships. No cluster is needed.
"""

import re

import pytest
import yaml

from tests.support.kubernetes import (
    container,
    dockerfile_cmd,
    env_file,
    kubernetes_file,
    manifests,
    pod_spec,
    problems,
    render,
)
from tests.support.options import COOKIECUTTER_JSON

# The oldest and the newest Kubernetes whose schemas kubernetes-validate 1.37.0 ships.
KUBERNETES_VERSIONS = ["1.25", "1.37"]
# What kustomize v2, inside Debian's kubectl 1.20, knows of what the kustomization uses:
# newer fields (labels, patches, envs, replacements) would fail there.
KUSTOMIZE_V2_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "configMapGenerator",
    "secretGenerator",
    "images",
}
# Documented variables that no deployment sets: the image sets PORT, and serve.sh's HOST
# default is right in a pod; production ignores DJANGO_DEBUG; REDIS_TEST_URL is the tests'.
NOT_DEPLOYED = {"PORT", "HOST", "DJANGO_DEBUG", "REDIS_TEST_URL"}


@pytest.mark.stage("kubernetes")
def test_the_kustomization_renders_manifests_valid_for_kubernetes(baked, tmp_path):
    rendered = manifests(baked, tmp_path)
    expected = {
        ("ConfigMap", "django-config"),
        ("Secret", "django-secrets"),
        ("Job", "migrate"),
        ("Deployment", "web"),
        ("Service", "web"),
        ("Ingress", "web"),
    }
    if baked.combination["channel_layer"] == "redis":
        expected |= {
            ("PodDisruptionBudget", "web"),
            ("HorizontalPodAutoscaler", "web"),
            ("Deployment", "redis"),
            ("Service", "redis"),
        }
    if baked.combination["tasks"] == "celery":
        expected.add(("Deployment", "worker"))
    assert set(rendered) == expected
    found = [
        line for manifest in rendered.values() for line in problems(manifest, KUBERNETES_VERSIONS)
    ]
    assert not found, "\n".join(found)


@pytest.mark.stage("kubernetes")
def test_nothing_renders_without_secret_env(baked, tmp_path):
    """The Secret comes from the git-ignored secret.env only: without it, `kubectl apply
    -k` applies nothing, rather than a placeholder secret."""
    result = render(baked, tmp_path, secret_env=False)
    assert result.returncode != 0, result.stdout
    assert "secret.env" in result.stderr, result.stderr
    assert "deploy/kubernetes/secret.env" in (baked.path / ".gitignore").read_text().split()
    assert "deploy/kubernetes" in (baked.path / ".dockerignore").read_text().split()


@pytest.mark.stage("kubernetes")
def test_the_kustomization_uses_only_what_debians_kubectl_knows(baked):
    kustomization = yaml.safe_load(kubernetes_file(baked, "kustomization.yaml"))
    assert set(kustomization) <= KUSTOMIZE_V2_FIELDS, set(kustomization) - KUSTOMIZE_V2_FIELDS
    for generator in kustomization["configMapGenerator"] + kustomization["secretGenerator"]:
        assert set(generator) == {"name", "env"}, generator


@pytest.mark.stage("kubernetes")
def test_web_runs_the_start_command_with_probes_on_healthz(baked, tmp_path):
    rendered = manifests(baked, tmp_path)
    web = container(rendered["Deployment", "web"], "web")
    assert web["command"] == dockerfile_cmd(baked)
    (port,) = web["ports"]
    assert port == {"name": "http", "containerPort": 8000}
    host = rendered["ConfigMap", "django-config"]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    for probe in ("readinessProbe", "livenessProbe"):
        get = web[probe]["httpGet"]
        assert get["path"] == "/healthz" and get["port"] == "http", probe
        # Django refuses a Host outside DJANGO_ALLOWED_HOSTS with 400.
        assert get["httpHeaders"] == [{"name": "Host", "value": host}], probe
    # /healthz gives each of its two checks 2 s.
    assert web["readinessProbe"]["timeoutSeconds"] >= 4
    ingress = rendered["Ingress", "web"]["spec"]
    assert [rule["host"] for rule in ingress["rules"]] == [host]
    assert ingress["tls"][0]["hosts"] == [host]
    for workload in ("web", "worker"):
        if ("Deployment", workload) in rendered:
            (wait,) = pod_spec(rendered["Deployment", workload])["initContainers"]
            assert "manage.py migrate --check" in wait["command"][-1], workload
    migrate = container(rendered["Job", "migrate"], "migrate")
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]


@pytest.mark.stage("kubernetes")
def test_web_keeps_serving_until_new_connections_stop(baked, tmp_path):
    """The preStop pause lets ingress-nginx and kube-proxy stop sending new connections
    before the server gets SIGTERM; the grace period then leaves it time to drain (every
    socket closed with 1001, at most DRAIN_TIMEOUT s) and to stop (Daphne gives consumers
    10 s after theirs closed)."""
    web = manifests(baked, tmp_path)["Deployment", "web"]
    command = container(web, "web")["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pause = int(command[1])
    assert pause >= 5
    assert pod_spec(web)["terminationGracePeriodSeconds"] >= pause + 20


@pytest.mark.stage("kubernetes")
def test_the_ingress_keeps_websockets_open_between_pings(baked, tmp_path):
    rendered = manifests(baked, tmp_path)
    config = rendered["ConfigMap", "django-config"]["data"]
    # A socket is silent at most a ping interval, and its pong a ping timeout.
    silence = int(config["WS_PING_INTERVAL"]) + int(config["WS_PING_TIMEOUT"])
    annotations = rendered["Ingress", "web"]["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) > silence, timeout
    spec = rendered["Ingress", "web"]["spec"]
    assert spec["ingressClassName"] == "nginx"
    service = rendered["Service", "web"]["spec"]
    backend = spec["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "web", "port": {"name": "http"}}
    assert [(p["name"], p["targetPort"]) for p in service["ports"]] == [("http", "http")]
    web = rendered["Deployment", "web"]["spec"]
    assert service["selector"] == web["selector"]["matchLabels"]
    assert web["selector"]["matchLabels"].items() <= web["template"]["metadata"]["labels"].items()


@pytest.mark.stage("kubernetes")
def test_web_pods_follow_the_channel_layer(baked, tmp_path):
    """The in-memory layer lives in one process: one pod, never two, not even during a
    rollout, and nothing that scales it. With Redis, the autoscaler owns the count."""
    rendered = manifests(baked, tmp_path)
    web = rendered["Deployment", "web"]["spec"]
    if baked.combination["channel_layer"] == "in_memory":
        assert web["replicas"] == 1
        assert web["strategy"] == {"type": "Recreate"}
        assert not {kind for kind, _ in rendered} & {
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        }
        if baked.combination["server"] == "uvicorn":
            assert rendered["ConfigMap", "django-config"]["data"]["WEB_CONCURRENCY"] == "1"
    elif baked.combination["channel_layer"] == "redis":
        # A replicas field would reset the autoscaler's count at every apply.
        assert "replicas" not in web
        hpa = rendered["HorizontalPodAutoscaler", "web"]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
        }
        assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
        (metric,) = hpa["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert container(rendered["Deployment", "web"], "web")["resources"]["requests"]["cpu"]
        pdb = rendered["PodDisruptionBudget", "web"]["spec"]
        assert pdb["selector"]["matchLabels"] == web["selector"]["matchLabels"]
        secret = env_file(kubernetes_file(baked, "secret.env.example"))
        assert secret["REDIS_URL"] == "redis://redis:6379/0"
    else:
        pytest.fail(f"no expectation for channel_layer={baked.combination['channel_layer']}")


@pytest.mark.stage("kubernetes")
def test_the_worker_runs_only_with_celery_and_pings_its_own_node(baked, tmp_path):
    rendered = manifests(baked, tmp_path)
    if baked.combination["tasks"] != "celery":
        assert ("Deployment", "worker") not in rendered
        return
    worker_pod = pod_spec(rendered["Deployment", "worker"])
    worker = container(rendered["Deployment", "worker"], "worker")
    assert " ".join(worker["command"]) == COOKIECUTTER_JSON["__run_worker"]
    assert worker["envFrom"] == container(rendered["Deployment", "web"], "web")["envFrom"]
    shell, flag, command = worker["livenessProbe"]["exec"]["command"]
    assert (shell, flag) == ("sh", "-c")  # so that $HOSTNAME is the pod's name
    assert command.startswith("celery -A config inspect ping ")
    assert command.endswith(" --destination celery@$HOSTNAME")
    # Time for running jobs to end: SIGTERM stops the worker's taking new ones only.
    assert worker_pod["terminationGracePeriodSeconds"] >= 60


@pytest.mark.stage("kubernetes")
def test_every_documented_variable_is_in_the_config_or_the_secret(baked):
    """config.env and secret.env.example hold every variable that docs/configuration.md
    and docs/deployment.md document (the broker's commented out: it defaults to
    REDIS_URL), and nothing else."""
    docs = "".join(
        (baked.path / "docs" / page).read_text() for page in ("configuration.md", "deployment.md")
    )
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", docs, re.MULTILINE))
    documented |= {
        name
        for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)+) \|", docs, re.MULTILINE)
        for name in re.findall(r"`(\w+)`", row)
    }
    config = env_file(kubernetes_file(baked, "config.env"))
    secret = env_file(kubernetes_file(baked, "secret.env.example"), commented=True)
    assert not set(config) & set(secret)
    assert set(config) | set(secret) == documented - NOT_DEPLOYED
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= set(secret)
    assert secret["DJANGO_SECRET_KEY"] == "", "a secret key is committed"
