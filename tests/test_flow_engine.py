"""The data-flow engine's mechanisms, beyond the per-pattern fixtures of test_flow_fixtures.py:
the instruction decoder, user-declared channels and sinks, catalog precedence, and the budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.dex.insns import decode_body
from auditor.dex.reader import DexFile
from auditor.flow import engine as flow_engine
from auditor.flow.engine import parse_proto
from auditor.flow.library import Library
from auditor.flow.summary import SinkHit, Summary
from auditor.i18n import localize
from auditor.model import FlowStep
from auditor.ruleset.ruleset import FlowEntry

ROOT = Path(__file__).resolve().parents[1]
APK = ROOT / "tests" / "fixtures" / "apk"
DEVICE_ID_RULES = ROOT / "examples" / "rules" / "device-id"


def _dex(name: str) -> DexFile:
    import zipfile

    with zipfile.ZipFile(APK / name) as archive:
        return DexFile(archive.read("classes.dex"))


def test_decoder_reads_every_instruction_with_its_registers_and_branches() -> None:
    dex = _dex("contacts_upload.apk")
    bodies = [decode_body(dex.data, code.start, code.end) for codes in dex.class_methods().values() for code in codes]
    assert sum(len(b.insns) for b in bodies) > 50
    for body in bodies:
        pcs = {insn.pc for insn in body.insns}
        for insn in body.insns:
            assert all(0 <= r < max(body.registers, 1) for r in insn.regs), insn
            assert all(t in pcs for t in insn.targets), "a branch lands on an instruction"
    invokes = [i for b in bodies for i in b.insns if i.op == 0x74]  # invoke-virtual/range: ContentResolver.query
    assert invokes and len(invokes[0].regs) == 6


def test_decoder_stops_at_truncated_code_instead_of_raising() -> None:
    dex = _dex("contacts_upload.apk")
    code = max((c for codes in dex.class_methods().values() for c in codes), key=lambda c: c.end - c.start)
    whole = decode_body(dex.data, code.start, code.end)
    cut = decode_body(dex.data[:code.start + 7], code.start, code.end)
    assert 0 < len(cut.insns) < len(whole.insns)


def test_proto_parsing_counts_wide_and_array_parameters() -> None:
    assert parse_proto("(IJ[Ljava/lang/String;[[BLandroid/net/Uri;D)V") == (
        ["I", "J", "[Ljava/lang/String;", "[[B", "Landroid/net/Uri;", "D"], "V")


def test_a_user_channel_and_sink_from_a_rules_folder() -> None:
    """Device identifiers logged with android.util.Log: a research pack declares the channel and the sink."""
    result = CliRunner().invoke(main, ["scan", "--no-cache", "--rules", str(DEVICE_ID_RULES), "-f", "json",
                                       str(APK / "flow_device_id.apk")])
    app = json.loads(result.stdout)["apps"][0]
    device = app["channels"]["device_id"]
    assert device["level"] == "upload"
    sources = {f["steps"][0]["action"] for f in device["flows"]}
    assert any("Settings$Secure;->getString" in s for s in sources) and any("getDeviceId" in s for s in sources)
    assert all(f["value"].startswith("device_id -> log") for f in device["flows"])
    assert app["score"] == 0, "a channel that is not scored adds no points"
    plain = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_device_id.apk")])
    assert "device_id" not in json.loads(plain.stdout)["apps"][0]["channels"]


def test_a_later_catalog_entry_overrides_an_earlier_one() -> None:
    quiet = FlowEntry(id="ui.log", source="https://example.invalid/a", methods=("Landroid/util/Log;->d",))
    loud = FlowEntry(id="log.sink", source="https://example.invalid/b", methods=("Landroid/util/Log;->d",),
                     sink={"kind": "log", "args": ["arg2"]})
    assert Library((quiet, loud)).lookup("Landroid/util/Log;", "d") is loud


def test_a_reached_budget_is_reported_not_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_engine, "INSTRUCTION_BUDGET", 5)
    result = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_deep.apk")])
    contacts = json.loads(result.stdout)["apps"][0]["channels"]["contacts"]
    assert contacts["level"] == "code"
    assert any("budget" in e["value"] for e in contacts["flow_lost"])


def test_retrofit_endpoint_joins_base_url_and_annotation_path() -> None:
    result = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_retrofit.apk")])
    contacts = json.loads(result.stdout)["apps"][0]["channels"]["contacts"]
    flow = contacts["flows"][0]
    assert "Retrofit @POST" in flow["value"]
    assert any(e.endswith("/v1/contacts") and e.startswith("https://") for e in flow["endpoints"])


def test_a_sink_seen_again_with_its_destination_keeps_it() -> None:
    """A helper that sends through a socket kept in a field is often analysed before the method that
    opens the socket: the second visit finds the URL, and callers must learn it."""
    step = (FlowStep("Lapp/Socket;->push(Ljava/lang/String;)V", 2, "sends it"),)
    blind = SinkHit("network", "Lokhttp3/WebSocket;->send", frozenset(), frozenset(), step)
    seeing = SinkHit("network", "Lokhttp3/WebSocket;->send", frozenset({"wss://ws.example.invalid"}), frozenset(), step)
    summary = Summary()
    assert summary.add_sink(1, blind)
    later = Summary()
    later.add_sink(1, seeing)
    assert summary.grow(later), "a destination learnt later is a change its callers must see"
    assert summary.sinks[1] == [seeing]
    assert not summary.grow(later)


def test_a_webview_bridge_hands_what_its_methods_return_to_the_page() -> None:
    """flow_js_bridge: ContactsBridge.getContacts (@JavascriptInterface) returns the address book to
    the page loaded after the bridge is added; MessagesBridge.getMessages puts the SMS into a field
    of the object it returns, which carries it to the page too."""
    result = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_js_bridge.apk")])
    channels = json.loads(result.stdout)["apps"][0]["channels"]
    (flow,) = channels["contacts"]["flows"]
    assert flow["value"].startswith("contacts -> webview_bridge: Landroid/webkit/WebView;->addJavascriptInterface")
    assert flow["endpoints"] == ["https://app.jsbridge.example.invalid/index.html"]
    assert not any("getVersion" in m for m in flow["path"]), "a method without @JavascriptInterface is not exposed"
    sms = channels["sms"]
    (sent,) = sms["flows"]
    assert sms["level"] == "upload" and sent["value"].startswith("sms -> webview_bridge")
    assert any("MessagesBridge;->getMessages(" in m for m in sent["path"])
    assert not sms.get("flow_lost"), "a method whose result carries the data is not also reported as lost"


def test_the_bridge_flow_lost_sentence_is_a_template() -> None:
    """The sentence the engine says for data that reaches an exposed method but not its result."""
    lost = ("sms data in Lapp/Bridge;->getMessages()Lapp/Inbox;, which Landroid/webkit/WebView;->addJavascriptInterface "
            "exposes to code outside the app (a WebView's JavaScript), is not followed into its result")
    assert "短信" in localize(lost, "zh-CN"), "the sentence is a template, said in the report's language"


def test_a_shared_request_helper_gives_each_request_class_only_its_own_url() -> None:
    """flow_volley_helper: ContactsRequest (contacts URL) and PingRequest (ping URL, no data) both go
    through RequestHub.enqueue(Context, Request); the contacts flow in ContactsRequest.getParams gets
    the URL of the object of its own class only."""
    result = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_volley_helper.apk")])
    (flow,) = json.loads(result.stdout)["apps"][0]["channels"]["contacts"]["flows"]
    assert flow["endpoints"] == ["https://api.volleyhelper.example.invalid/v1/contacts"]


JOB_PAYLOAD = """  - id: research.job_payload
    overrides: {base: ["Lcom/example/sync/Job;"], methods: [payload]}
    sink: {kind: network, address: [receiver]}
    source: "https://example.invalid/sync-library/Job#payload"
"""
JOB_SUBMIT = """  - id: research.job_submit
    methods: ["Lcom/example/sync/Dispatcher;->submit"]
    calls: [{target: arg1, method: payload, args: []}]
    flows: []
    source: "https://example.invalid/sync-library/Dispatcher#submit"
"""
CUSTOM_URL = "https://api.customrequest.example.invalid/v1/contacts"


def _custom_request_contacts(tmp_path: Path, entries: str) -> dict:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "flows.yaml").write_text("catalog: flows\nentries:\n" + entries, encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "--no-cache", "--rules", str(tmp_path), "-f", "json",
                                       str(APK / "flow_custom_request.apk")])
    return json.loads(result.stdout)["apps"][0]["channels"]["contacts"]


def test_a_request_object_carries_its_url_to_a_send_the_library_makes(tmp_path: Path) -> None:
    """The mechanism behind Volley's getBody, for a library the built-in catalog does not know: a job
    built with a URL (a library constructor: its arguments flow into the object) is handed through a
    helper to a dispatcher that calls the job's payload() back and sends the result to the job's URL.
    Declared as data (an override sink with `address: [receiver]`, a `calls` entry on the send), the
    flow gets the URL, which only the helper's caller knows."""
    contacts = _custom_request_contacts(tmp_path, JOB_PAYLOAD + JOB_SUBMIT)
    assert contacts["level"] == "upload"
    flow = contacts["flows"][0]
    assert flow["endpoints"] == [CUSTOM_URL]
    assert any("UploadJob;->payload(" in m for m in flow["path"])
    assert [e["value"] for e in contacts["endpoints"]] == [CUSTOM_URL]


def test_without_the_call_back_the_send_is_found_but_not_its_destination(tmp_path: Path) -> None:
    """The URL comes from the declared call back, not from anything the engine knows about the app."""
    contacts = _custom_request_contacts(tmp_path, JOB_PAYLOAD)
    assert contacts["level"] == "upload"
    assert contacts["flows"] and not any(f.get("endpoints") for f in contacts["flows"])
    assert not contacts.get("endpoints")


def test_without_the_catalog_entries_the_payload_is_not_a_send() -> None:
    result = CliRunner().invoke(main, ["scan", "--no-cache", "-f", "json", str(APK / "flow_custom_request.apk")])
    contacts = json.loads(result.stdout)["apps"][0]["channels"]["contacts"]
    assert contacts["level"] == "code"
    assert not contacts["flows"]


def test_traces_do_not_depend_on_string_hashing() -> None:
    """Set order changes with PYTHONHASHSEED; the flows a report shows must not."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "auditor", "scan", "--no-cache", "-f", "json",
                               str(APK / "flow_prefs.apk"), str(APK / "flow_rx.apk")],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        outputs.append([app["channels"] for app in json.loads(done.stdout)["apps"]])
    assert outputs[0] == outputs[1] == outputs[2]
