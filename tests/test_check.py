"""`check` against the emulator: the real CLI over real HTTP on loopback, Google's own GCP clients."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from gemini_doctor.emulator.scenarios import find_scenario, scenarios
from gemini_doctor.engine import CheckResult, discover_checks
from gemini_doctor.knowledge import error_types
from tests.conftest import run_installed

FREE_TIER_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
ARTICLE_SLUGS = [e.slug for e in error_types() if e.code.startswith("GD0")]
SERVER_SIDE = [s.slug for s in scenarios() if s.slug != "healthy" and s.backend == "gemini"]


# This project's own research notes: users see sources they can open, never these (issue 15, point 4).
INTERNAL = re.compile(
    r"the article|article's|seed-claims|\[spike\]|research (?:corpus|files|notes)|api-facts|field report|"
    r"claims? \d|shared/research",
    re.IGNORECASE,
)


def assert_nothing_internal(document: dict) -> None:
    """The document in every format (rich verbose, Markdown, JSON) quotes none of the project's internal notes."""
    from gemini_doctor.report import render

    for fmt in ("rich", "markdown", "json"):
        found = INTERNAL.search(render(document, fmt, verbose=True))
        assert found is None, (fmt, found.string[max(0, found.start() - 80) : found.end() + 40])


def check_json(run_cli, *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli("check", *args, "--format", "json")
    return code, json.loads(out)


def emulator_args(server, scenario_slug: str) -> list[str]:
    """The reproducing command the emulator prints, as arguments."""
    return [
        "--base-url",
        server.url,
        "--gcp-endpoint",
        server.url,
        "--project",
        "emulated-project",
        "--api-key",
        "emulated-key",
        *find_scenario(scenario_slug).check_args,
    ]


@pytest.mark.parametrize("slug", ARTICLE_SLUGS)
def test_each_article_scenario_is_named_first_in_process(run_cli, emulator, slug):
    server = emulator(slug)
    code, document = check_json(run_cli, *emulator_args(server, slug))
    assert document["diagnosis"][0]["slug"] == slug, [d["slug"] for d in document["diagnosis"]]
    assert code == 1 and document["exit_code"] == 1
    assert_nothing_internal(document)


@pytest.mark.parametrize("slug", [s for s in SERVER_SIDE if s not in ARTICLE_SLUGS])
def test_each_added_scenario_is_named_first(run_cli, slug):
    code, document = check_json(run_cli, "--emulator", slug)
    assert document["diagnosis"][0]["slug"] == slug
    assert code == 1
    assert_nothing_internal(document)


# Two scenarios as the installed script (a real process: entry points, stdout, exit code); every scenario runs
# in-process above.
@pytest.mark.parametrize("slug", ["billing-limit-zero", "wrong-endpoint"])
def test_installed_cli_as_a_subprocess(slug):
    code, out, err = run_installed("check", "--emulator", slug, "--format", "json")
    document = json.loads(out)
    assert code == 1 and document["diagnosis"][0]["slug"] == slug
    assert "Traceback" not in err


def test_healthy_with_generate_passes_five_checks(run_cli):
    code, document = check_json(run_cli, "--emulator", "healthy", "--generate")
    assert code == 0 and document["exit_code"] == 0
    assert [c["status"] for c in document["checks"]] == ["pass"] * 5
    assert [c["id"] for c in document["checks"]] == ["billing", "quota", "endpoint", "model", "parameters"]
    assert document["diagnosis"] == []
    assert document["schema"] == "gemini-doctor/v1" and document["tool"]["name"] == "gemini-doctor"
    assert set(document["target"]) >= {"model", "base_url", "api_version", "project"}
    assert_nothing_internal(document)


def test_the_first_readme_command_works_with_no_key(monkeypatch):
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run_installed("check", "--emulator", "healthy")
    assert code == 0, err
    assert out.count("[✓]") == 5 and out.rstrip().endswith("No issues found in 5 checks.")


def test_generate_says_its_cost_first(run_cli):
    code, _out, err = run_cli("check", "--emulator", "healthy", "--generate", "--format", "json")
    assert code == 0 and "exactly one generateContent" in err and "nothing is billed" in err


def test_cost_notice_against_google_names_the_price_from_the_model_table():
    from gemini_doctor.check import cost_notice
    from gemini_doctor.knowledge import find_model
    from gemini_doctor.settings import Settings

    model = find_model("gemini-3.1-flash-image")
    notice = cost_notice(Settings(model=model.id, generate=True, image_size="2K"))
    assert f"${model.price_usd['2K']:.3f}" in notice and "one 2K image" in notice
    assert cost_notice(Settings(model=model.id, generate=False)) is None


def test_report_formats(run_cli, tmp_path):
    code, out, _ = run_cli("check", "--emulator", "billing-limit-zero", "--format", "markdown")
    assert code == 1 and "| ❌ |" in out and "GD001" in out and "billing-limit-zero" in out
    target = tmp_path / "report.json"
    code, out, _ = run_cli("check", "--emulator", "ghost-429", "--format", "json", "--output", str(target))
    assert code == 1 and out == "" and json.loads(target.read_text())["diagnosis"][0]["slug"] == "ghost-429"


def test_strict_turns_warnings_into_failure(run_cli):
    args = ("--emulator", "healthy", "--skip", "parameters", "--model", "gemini-2.5-flash-image")
    code, document = check_json(run_cli, *args)
    assert code == 0 and any(c["status"] == "warn" for c in document["checks"])  # deprecated in the table
    code, document = check_json(run_cli, *args, "--strict")
    assert code == 1


def test_only_and_skip(run_cli):
    code, document = check_json(run_cli, "--emulator", "healthy", "--only", "model", "--only", "endpoint")
    assert [c["id"] for c in document["checks"]] == ["endpoint", "model"]
    code, document = check_json(run_cli, "--emulator", "healthy", "--skip", "billing")
    assert "billing" not in [c["id"] for c in document["checks"]]
    code, _, err = run_cli("check", "--emulator", "healthy", "--only", "nope")
    assert code == 2 and "no check named" in err


def test_without_gcp_credentials_billing_and_quota_skip_and_the_rest_runs(run_cli, emulator, monkeypatch, tmp_path):
    server = emulator("healthy")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth must not probe the metadata server
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud credentials either
    monkeypatch.setenv("HOME", str(tmp_path))
    code, document = check_json(run_cli, "--base-url", server.url, "--api-key", "emulated-key", "--project", "p")
    statuses = {c["id"]: c for c in document["checks"]}
    assert statuses["billing"]["status"] == statuses["quota"]["status"] == "skip"
    assert "gcloud auth application-default login" in statuses["billing"]["summary"]
    assert [statuses[i]["status"] for i in ("endpoint", "model")] == ["pass"] * 2
    assert statuses["parameters"]["status"] == "skip" and "no settings to check" in statuses["parameters"]["summary"]
    assert code == 0


def test_error_file_is_diagnosed_with_live_context(run_cli, tmp_path):
    error = tmp_path / "error.json"
    error.write_text(
        json.dumps(
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "x",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [
                                {
                                    "quotaMetric": FREE_TIER_METRIC,
                                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                                    "quotaValue": "0",
                                }
                            ],
                        }
                    ],
                }
            }
        )
    )
    _code, document = check_json(run_cli, "--emulator", "healthy", "--error", str(error))
    # billing is on and the paid quota is 500 in the emulated project: the same 429 reads as the ghost
    assert document["diagnosis"][0]["slug"] == "ghost-429"


def test_request_file_settings_are_checked(run_cli, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(
        json.dumps(
            {
                "contents": [],
                "generationConfig": {
                    "candidateCount": 2,
                    "imageConfig": {"aspectRatio": "16:9", "personGeneration": "ALLOW_ALL"},
                },
            }
        )
    )
    code, document = check_json(run_cli, "--emulator", "healthy", "--request", str(body))
    slugs = [d["slug"] for d in document["diagnosis"]]
    assert code == 1 and slugs[0] == "invalid-argument"


THIRD_PARTY = """
from gemini_doctor.engine import CheckResult

class OrgPolicyCheck:
    id = "org-policy"
    title = "Org policy (third party)"
    order = 35
    needs = ()
    depends_on = ("endpoint",)

    async def run(self, ctx):
        return CheckResult("pass", "org policy allows the Gemini API")
"""


def test_a_third_party_check_runs_in_its_place(tmp_path):
    (tmp_path / "org_policy_check.py").write_text(textwrap.dedent(THIRD_PARTY))
    dist = tmp_path / "org_policy_check-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: org-policy-check\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gemini_doctor.checks]\norg-policy = org_policy_check:OrgPolicyCheck\n")
    code, out, err = run_installed(
        "check", "--emulator", "healthy", "--format", "json", env={"PYTHONPATH": str(tmp_path)}
    )
    ids = [c["id"] for c in json.loads(out)["checks"]]
    assert ids == ["billing", "quota", "endpoint", "org-policy", "model", "parameters"], err
    assert code == 0


def test_the_engine_discovers_the_built_in_checks():
    assert [c.id for c in discover_checks()] == ["billing", "quota", "endpoint", "model", "parameters"]


def test_github_actions_summary_and_annotations(run_cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run_cli("check", "--emulator", "ipm-exceeded")
    assert code == 1
    assert "::error title=GD002 ipm-exceeded::" in out
    text = summary.read_text()
    assert "## gemini-doctor check" in text and "GD002" in text and "emulated-key" not in text


def test_json_to_stdout_stays_parseable_under_github_actions(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "s.md"))
    _code, document = check_json(run_cli, "--emulator", "ipm-exceeded")
    assert document["diagnosis"][0]["slug"] == "ipm-exceeded"


def test_refused_connection_is_named_by_the_endpoint_check(run_cli):
    import socket

    with socket.socket() as holder:  # a port that is certainly closed: bound, never listening
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        code, document = check_json(
            run_cli, "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k", "--timeout", "2"
        )
    endpoint = next(c for c in document["checks"] if c["id"] == "endpoint")
    assert endpoint["status"] == "fail"
    first = document["diagnosis"][0]
    assert first["slug"] == "network-unreachable" and "refused" in " ".join(first["evidence"])
    assert code == 1


def test_requests_sent_are_counted_and_bounded(run_cli, emulator):
    server = emulator("healthy")
    _code, document = check_json(run_cli, *emulator_args(server, "healthy"))
    assert document["requests_sent"] == {"gemini": 3, "gcp": 3}  # the model is read from the list: no models.get
    assert len(server.recorder.requests) == 6
    assert server.recorder.count(":generateContent") == 2  # the free shape probe and the one image


def test_the_paid_call_waits_for_its_prerequisites(run_cli, emulator):
    server = emulator("healthy")
    code, document = check_json(
        run_cli, "--base-url", server.url, "--api-key", "k", "--generate", "--model", "gemini-3-pro-image-preview"
    )
    assert document["diagnosis"][0]["slug"] == "model-deprecated" and code == 1
    assert server.recorder.count(":generateContent") == 1  # only the free shape probe: no image was requested
    parameters = next(c for c in document["checks"] if c["id"] == "parameters")
    assert any("not sent" in line for line in parameters["evidence"])


def test_no_key_fails_with_api_key_missing_and_keeps_static_findings(run_cli, monkeypatch, tmp_path):
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    code, document = check_json(run_cli, "--model", "gemini-3.1-flash-lite-image", "--image-size", "2K")
    slugs = [d["slug"] for d in document["diagnosis"]]
    assert code == 1 and "api-key-missing" in slugs and "invalid-argument" in slugs


def test_quota_entries_for_the_model_win_over_the_default():
    from gemini_doctor.checks.quota import for_model

    quotas = [
        {
            "quota_id": "Q-FreeTier",
            "metric": "m/free_tier",
            "refresh": "minute",
            "dimensions": {"model": "x"},
            "value": 0,
        },
        {"quota_id": "Q-FreeTier", "metric": "m/free_tier", "refresh": "minute", "dimensions": {}, "value": 15},
        {"quota_id": "Q-Day", "metric": "m/day", "refresh": "day", "dimensions": {}, "value": 100},
    ]
    chosen = {q["quota_id"]: q["value"] for q in for_model(quotas, {"x"})}
    assert chosen == {"Q-FreeTier": 0, "Q-Day": 100}
    assert {q["quota_id"]: q["value"] for q in for_model(quotas, {"y"})} == {"Q-FreeTier": 15, "Q-Day": 100}


def test_models_prefix_is_the_same_model(run_cli):
    code, document = check_json(run_cli, "--emulator", "healthy", "--model", "models/gemini-3-pro-image")
    assert code == 0 and document["target"]["model"] == "gemini-3-pro-image"


def test_a_missing_output_folder_is_said_before_any_request(run_cli, emulator, tmp_path):
    server = emulator("healthy")
    code, _, err = run_cli("check", *emulator_args(server, "healthy"), "--output", str(tmp_path / "no" / "r.json"))
    assert code == 2 and "does not exist" in err
    assert server.recorder.requests == []


BROKEN = "raise ImportError('this plugin is broken on purpose')\n"


def test_a_broken_plugin_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "broken_check.py").write_text(BROKEN)
    dist = tmp_path / "broken_check-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-check\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gemini_doctor.checks]\nbroken = broken_check:Check\n")
    code, out, err = run_installed(
        "check", "--emulator", "healthy", "--format", "json", env={"PYTHONPATH": str(tmp_path)}
    )
    document = json.loads(out)
    broken = next(c for c in document["checks"] if c["id"] == "broken")
    assert broken["status"] == "error" and "broken on purpose" in broken["summary"]
    assert [c["status"] for c in document["checks"] if c["id"] != "broken"] == ["pass"] * 5
    assert code == 1 and "Traceback" not in err


def test_a_key_typed_as_an_argument_is_not_echoed():
    key = "AIzaSyDOCTOR" + "k3y" * 9
    code, out, err = run_installed("check", key)
    assert code == 2 and key not in out + err and "unexpected extra argument" in err


def test_annotations_are_redacted_even_for_keys_of_no_known_shape(tmp_path):
    from tests.test_hardening import raw_server, read_request, reply

    key = "sk-gateway-virtualkey-777"

    def gateway(conn):
        read_request(conn)
        reply(conn, "502 Bad Gateway", f"<html><title>Invalid token {key}</title></html>".encode(), "text/html")

    with raw_server(gateway) as port:
        code, out, err = run_installed(
            "check",
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--api-key",
            key,
            env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s")},
        )
    assert code == 1 and "::error" in out
    assert key not in out + err + (tmp_path / "s").read_text()


def test_cost_notice_is_local_only_when_the_base_url_is():
    from gemini_doctor.check import cost_notice
    from gemini_doctor.settings import Settings

    remote = Settings(model="gemini-3-pro-image", generate=True, gcp_endpoint="http://127.0.0.1:1")
    assert "$" in cost_notice(remote) and "nothing is billed" not in cost_notice(remote)
    assert "third-party" in cost_notice(Settings(model="gemini-3.1-flash-image", generate=True))


def test_a_check_waits_for_its_prerequisite_before_it_sends_anything(run_cli, emulator):
    server = emulator("wrong-endpoint")
    _code, document = check_json(run_cli, *emulator_args(server, "wrong-endpoint"))
    statuses = {c["id"]: c["status"] for c in document["checks"]}
    assert statuses["endpoint"] == "fail" and statuses["model"] == "skip"
    model = next(c for c in document["checks"] if c["id"] == "model")
    assert model["summary"] == "skipped: endpoint failed"
    assert not [r for r in server.recorder.requests if r.path.rstrip("/").endswith("models/gemini-3-pro-image")]


class _Plugin:
    title = "a plugin"
    order = 1
    needs: tuple[str, ...] = ()

    def __init__(self, check_id, depends_on=()):
        self.id, self.depends_on = check_id, tuple(depends_on)

    async def run(self, ctx):
        return CheckResult("pass", f"{self.id} ran")


def test_the_dependency_graph_is_validated_at_discovery():
    import asyncio

    from gemini_doctor.engine import run_checks, validate_graph
    from gemini_doctor.settings import Settings

    checks = validate_graph(
        [_Plugin("a", ["b"]), _Plugin("b", ["c"]), _Plugin("c", ["a"]), _Plugin("d", ["nowhere"]), _Plugin("e")]
    )
    results = dict((c.id, r) for c, r in asyncio.run(run_checks(checks, Settings(), {}, None)))
    assert {k: r.status for k, r in results.items()} == {
        "a": "error",
        "b": "error",
        "c": "error",
        "d": "error",
        "e": "pass",
    }
    assert "lead back" in results["a"].summary and "nowhere" in results["d"].summary


# ------------------------------------------------------------- the report a person is glad to get (issue 15)


def test_a_429_is_reported_under_quota_once_and_parameters_is_not_green(run_cli):
    code, out, _ = run_cli("check", "--emulator", "ghost-429")
    lines = out.splitlines()
    quota = next(line for line in lines if line.startswith(("[✗] Quota", "[!] Quota")))
    assert "ghost-429" in quota and code == 1
    parameters = next(line for line in lines if "Parameters" in line)
    assert parameters.startswith("[-]") and "ghost-429" in parameters
    bullets = [line.strip() for line in lines if line.strip().startswith("•")]
    finding = lines.index(next(line for line in lines if "1. GD003 ghost-429" in line))
    own = [b for b in bullets if lines.index(next(x for x in lines if x.strip() == b)) > finding]
    assert len(own) == len(set(own)), "an evidence line printed twice"
    assert out.count("GD003 ghost-429:") == 2 and "possible" not in out.split("1. GD003")[1].splitlines()[0]
    assert lines[-1] == "Doctor found issues in 1 check; 1 skipped."


def test_without_a_key_nothing_is_marked_as_passed(run_cli, monkeypatch):
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    code, out, _ = run_cli("check", "--base-url", "http://127.0.0.1:9", "--image-size", "1K")
    marks = [line[:3] for line in out.splitlines() if line[:3] in ("[✓]", "[-]", "[✗]", "[!]")]
    assert "[✓]" not in marks and marks.count("[-]") == 5, out
    assert "skipped: endpoint was skipped" in out and code == 1
    assert out.rstrip().endswith("Doctor found 1 issue; 5 skipped.")


def test_a_rival_read_from_the_same_answer_is_an_alternative_not_a_second_finding(run_cli):
    code, document = check_json(run_cli, "--emulator", "service-disabled")
    assert [d["slug"] for d in document["diagnosis"]] == ["service-disabled"] and code == 1
    assert document["diagnosis"][0]["alternatives"][0].startswith("could also be GD104 permission-denied")
    _code, out, _ = run_cli("check", "--emulator", "service-disabled")
    assert out.count("could also be GD104 permission-denied") == 1 and "2. GD104" not in out


@pytest.mark.parametrize("slug", ["billing-limit-zero", "service-disabled", "ghost-429"])
def test_each_evidence_line_is_printed_once(run_cli, slug):
    _code, out, _ = run_cli("check", "--emulator", slug)
    bullets = [line.strip() for line in out.splitlines() if line.strip().startswith("•")]
    assert len(bullets) == len(set(bullets)), [b for b in bullets if bullets.count(b) > 1]
