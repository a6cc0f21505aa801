"""Data flow (issue 11): each flow_* fixture holds one way a value read from a channel travels to a
sink (a field, a collection, a framework callback, an Intent to a service, six calls of layering, a
Retrofit interface...). A positive fixture must be `upload` with `flow` evidence that names where the
flow starts, the methods it passes and where the data goes; a negative control must stay below
`upload` with no `flow` evidence, however close its read and its sink are in the call graph.
The fixtures and their expected results are listed in tests/fixtures/README.md."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from auditor.model import AppResult, Evidence

COLUMNS = {"contacts": ("display_name", "data1"), "sms": ("address", "body"), "call_log": ("number", "duration")}


@dataclass(frozen=True)
class Flow:
    """What one positive fixture must report: `entry` lists the entry methods accepted (where the
    read is reached from a framework callback, either the component method that set it going or the
    callback itself), `path` the methods the flow must pass, `endpoint` where the data goes."""

    channel: str
    entry: tuple[str, ...]
    path: tuple[str, ...]
    endpoint: str
    columns: tuple[str, ...] | None = None

    def expected_columns(self) -> tuple[str, ...]:
        return COLUMNS[self.channel] if self.columns is None else self.columns


ON_CREATE = ("MainActivity;->onCreate(",)
NET = "Net;->post("

POSITIVE = {
    "flow_field": Flow("contacts", ON_CREATE, ("ContactRepository;->load(", "UploadRunnable;->run(", NET),
                       "https://api.field.example.invalid/v1/contacts"),
    "flow_static_field": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "SyncRunnable;->run(", NET),
                              "https://api.staticfield.example.invalid/v1/contacts"),
    "flow_collection": Flow("call_log", ON_CREATE, ("CallLogReader;->read(", "CallExporter;->export(", NET),
                            "https://api.collection.example.invalid/v1/calls"),
    "flow_json": Flow("contacts", ON_CREATE, ("ContactJson;->build(", NET), "http://api.json.example.invalid/v1/contacts"),
    "flow_gson": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "MainActivity;->onCreate(", NET),
                      "https://api.gson.example.invalid/v1/contacts"),
    "flow_pojo": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "MainActivity;->onCreate(", NET),
                      "https://api.pojo.example.invalid/v1/contacts"),
    "flow_encrypt": Flow("sms", ON_CREATE, ("SmsReader;->read(", "Sealer;->seal(", NET),
                         "https://api.encrypt.example.invalid/v1/sms"),
    "flow_asynctask": Flow("contacts", (*ON_CREATE, "UploadTask;->doInBackground("),
                           ("UploadTask;->doInBackground(", "UploadTask;->onPostExecute(", NET),
                           "https://api.asynctask.example.invalid/v1/contacts"),
    "flow_loader": Flow("contacts", (*ON_CREATE, "MainActivity;->onCreateLoader(", "MainActivity;->onLoadFinished("),
                        ("MainActivity;->onLoadFinished(", NET), "https://api.loader.example.invalid/v1/contacts"),
    "flow_rx": Flow("contacts", (*ON_CREATE, "ReadContacts;->call("),
                    ("ReadContacts;->call(", "ToPayload;->apply(", "SendConsumer;->accept(", NET),
                    "https://api.rx.example.invalid/v1/contacts"),
    "flow_livedata": Flow("contacts", ON_CREATE, ("ContactsViewModel;->load(", "SendObserver;->onChanged(", NET),
                          "https://api.livedata.example.invalid/v1/contacts"),
    "flow_handler": Flow("sms", ON_CREATE, ("SmsReader;->read(", "UploadHandler;->handleMessage(", NET),
                         "https://api.handler.example.invalid/v1/sms"),
    "flow_workmanager": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "UploadWorker;->doWork(", NET),
                             "https://api.workmanager.example.invalid/v1/contacts"),
    "flow_jobintentservice": Flow("call_log", ON_CREATE,
                                  ("CallLogReader;->read(", "UploadJobService;->onHandleWork(", NET),
                                  "https://api.jobintentservice.example.invalid/v1/calls"),
    "flow_listener": Flow("contacts", (*ON_CREATE, "SyncClickListener;->onClick("),
                          ("ContactReader;->read(", "SyncClickListener;->onClick(", NET),
                          "https://api.listener.example.invalid/v1/contacts"),
    "flow_intent_service": Flow("sms", ("SmsReceiver;->onReceive(",),
                                ("SmsReceiver;->onReceive(", "SmsUploadService;->onHandleIntent(", NET),
                                "https://api.intentservice.example.invalid/v1/sms", columns=()),
    "flow_deep": Flow("contacts", ON_CREATE,
                      ("ContactDao;->queryAll(", "ContactRepository;->sync(", "ContactRemoteDataSource;->push(",
                       "ContactApi;->upload(", "ApiClient;->post("),
                      "https://api.deep.example.invalid/v1/contacts"),
    "flow_retrofit": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "ContactSync;->sync(", "ContactApi;->upload("),
                          "https://api.retrofit.example.invalid/v1/contacts"),
    "flow_retrofit_suspend": Flow("contacts", (*ON_CREATE, "MainActivity$onCreate$1;->invokeSuspend("),
                                  ("ContactReader;->read(", "MainActivity$onCreate$1;->invokeSuspend(",
                                   "ContactApi;->upload("),
                                  "https://api.retrofitsuspend.example.invalid/v1/contacts"),
    "flow_okhttp": Flow("sms", ON_CREATE, ("SmsReader;->read(", "SmsUploader;->upload("),
                        "https://api.okhttp.example.invalid/v1/sms"),
    "flow_volley": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "ContactUploadRequest;->"),
                        "https://api.volley.example.invalid/v1/contacts"),
    "flow_volley_helper": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "ContactsRequest;->getParams("),
                               "https://api.volleyhelper.example.invalid/v1/contacts"),
    "flow_websocket": Flow("sms", ON_CREATE, ("SmsReader;->read(", "SmsSocket;->push("),
                           "wss://ws.websocket.example.invalid/v1/sms"),
    "flow_socketio": Flow("call_log", ON_CREATE, ("CallLogReader;->read(", "CallChannel;->emit("),
                          "https://io.socketio.example.invalid:8443"),
    "flow_js_bridge": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "ContactsBridge;->getContacts("),
                           "https://app.jsbridge.example.invalid/index.html"),
    "flow_sms_forward": Flow("sms", ON_CREATE, ("SmsReader;->read(", "Forwarder;->forward("), "+15550100999"),
    "flow_prefs": Flow("contacts", ON_CREATE, ("ContactReader;->read(", "ContactCache;->save(", "Uploader;->flush(", NET),
                       "https://api.prefs.example.invalid/v1/contacts"),
    "flow_lifecycle": Flow("call_log", ON_CREATE, ("CallLogReader;->read(", "MainActivity;->onStop(", NET),
                           "https://api.lifecycle.example.invalid/v1/calls"),
}

ENGINE_GAPS: dict[tuple[str, str], str] = {
    # (test, fixture): what the engine does not do yet. Strict: a fixed gap fails the run until its line
    # here is removed, so the expectation above is never weakened.
}


def _cases(test: str, fixtures) -> list:
    return [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=ENGINE_GAPS[(test, f)]))
            if (test, f) in ENGINE_GAPS else f for f in sorted(fixtures)]


NEGATIVE = {  # fixture: expected contacts level (the picker never raises it, see picker.apk)
    "flow_neg_display": "code",
    "flow_neg_sidebyside": "code",
    "flow_neg_overwrite": "code",
    "flow_neg_picker": "none",
}


def _evidence(result: AppResult, channel: str, kind: str) -> list[Evidence]:
    assert result.status == "ok", result.error
    return [e for e in result.facts.channels[channel].evidence if e.kind == kind]


def _has(methods: tuple[str, ...], fragment: str) -> bool:
    return any(fragment in m for m in methods)


@pytest.mark.parametrize("fixture", _cases("flow", POSITIVE))
def test_positive_fixture_is_an_upload_with_a_flow(audit, fixture: str) -> None:
    expected = POSITIVE[fixture]
    result = audit(f"apk/{fixture}.apk")
    assert result.facts.channels[expected.channel].level == "upload"
    flows = _evidence(result, expected.channel, "flow")
    assert flows, "upload must rest on a flow"
    matching = [f for f in flows if expected.endpoint in f.endpoints]
    assert matching, f"no flow reaches {expected.endpoint}: {[f.endpoints for f in flows]}"
    flow = matching[0]
    assert flow.entry_point and any(e in flow.entry_point for e in expected.entry), flow.entry_point
    missing = [m for m in expected.path if not _has(flow.path, m)]
    assert not missing, f"path {flow.path} lacks {missing}"
    assert flow.steps, "a flow shows its steps"


@pytest.mark.parametrize("fixture", _cases("endpoint", POSITIVE))
def test_positive_fixture_reports_its_endpoint(audit, fixture: str) -> None:
    expected = POSITIVE[fixture]
    endpoints = _evidence(audit(f"apk/{fixture}.apk"), expected.channel, "endpoint")
    found = [e for e in endpoints if expected.endpoint in e.value]
    assert found, f"no endpoint evidence for {expected.endpoint}: {[e.value for e in endpoints]}"
    cleartext = expected.endpoint.startswith("http://")
    assert all((e.detail == "cleartext") == cleartext for e in found), [e.detail for e in found]


@pytest.mark.parametrize("fixture", sorted(f for f, flow in POSITIVE.items() if flow.expected_columns()))
def test_positive_fixture_says_what_was_taken(audit, fixture: str) -> None:
    expected = POSITIVE[fixture]
    taken = " ".join(e.value for e in _evidence(audit(f"apk/{fixture}.apk"), expected.channel, "data_taken"))
    missing = [c for c in expected.expected_columns() if c not in taken]
    assert not missing, f"data_taken {taken!r} lacks {missing}"


@pytest.mark.parametrize("fixture", sorted(NEGATIVE))
def test_negative_control_is_not_an_upload(audit, fixture: str) -> None:
    result = audit(f"apk/{fixture}.apk")
    assert result.facts.channels["contacts"].level == NEGATIVE[fixture]
    assert not _evidence(result, "contacts", "flow")


def test_picker_result_sent_with_a_form_is_kept_as_picker(audit) -> None:
    assert audit("apk/flow_neg_picker.apk").facts.code.pickers


def test_the_cleartext_endpoint_is_flagged(audit) -> None:
    endpoints = _evidence(audit("apk/flow_json.apk"), "contacts", "endpoint")
    assert any(e.value.startswith("http://") and e.detail == "cleartext" for e in endpoints)


DEVICE_ID_PACK = {
    "channels.yaml": """catalog: channels
entries:
  - {id: device_id, title: "device identifiers", source: "https://developer.android.com/training/articles/user-data-ids"}
""",
    "apis.yaml": """catalog: apis
entries:
  - id: device_id.android_id
    kind: method
    match: "Landroid/provider/Settings$Secure;->getString"
    role: source
    channel: device_id
    permission: [android.permission.READ_PHONE_STATE]
    produces: data
    source: "https://developer.android.com/reference/android/provider/Settings.Secure#ANDROID_ID"
  - id: device_id.imei
    kind: method
    match: "Landroid/telephony/TelephonyManager;->getDeviceId"
    role: source
    channel: device_id
    permission: [android.permission.READ_PHONE_STATE]
    produces: data
    source: "https://developer.android.com/reference/android/telephony/TelephonyManager#getDeviceId()"
""",
    "flows.yaml": """catalog: flows
entries:
  - id: research.log_sink
    methods: ["Landroid/util/Log;->d", "Landroid/util/Log;->i"]
    sink: {kind: log, args: [arg2]}
    flows: []
    source: "https://developer.android.com/reference/android/util/Log"
""",
}


def test_a_user_defined_channel_and_sink_report_a_flow(tmp_path) -> None:
    """Issue 11 item 5: a --rules folder declares device identifiers as a channel and Log as a sink."""
    from auditor.limits import Limits
    from auditor.pipeline import audit_path
    from auditor.ruleset.ruleset import load_ruleset
    from tests.conftest import FIXTURES

    (tmp_path / "catalog").mkdir()
    for name, text in DEVICE_ID_PACK.items():
        (tmp_path / "catalog" / name).write_text(text, encoding="utf-8")
    result = audit_path(str(FIXTURES / "apk/flow_device_id.apk"), load_ruleset((tmp_path,)), Limits(), debug=True)
    assert result.status == "ok", result.error
    state = result.facts.channels["device_id"]
    assert state.level == "upload"
    flows = [e for e in state.evidence if e.kind == "flow"]
    assert flows and all("DeviceInfo;->log(" in "".join(f.path) for f in flows)
    assert flows[0].entry_point and "MainActivity;->onCreate(" in flows[0].entry_point
