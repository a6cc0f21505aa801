"""Code outside the dex: runtime detection and evidence from JavaScript, Hermes, Dart and .NET code."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from auditor.formats import RenderOptions
from auditor.formats import html as html_format
from auditor.formats import table as table_format
from auditor.formats.serialize import app_dict
from auditor.model import Report
from auditor.ruleset.ruleset import RuleSet
from auditor.runtimes import detect, javascript


def _runtime_names(result) -> list[str]:
    return [rt.name for rt in result.facts.runtime.runtimes]


def _evidence(result, channel: str, kind: str):
    return [e for e in result.facts.channels[channel].evidence if e.kind == kind]


def test_cordova_read_then_fetch_is_an_upload_with_its_endpoint(audit) -> None:
    result = audit("apk/cordova_contacts.apk")
    assert _runtime_names(result) == ["Cordova"]
    assert result.facts.channels["contacts"].level == "upload"
    (flow,) = _evidence(result, "contacts", "flow")
    assert flow.endpoints == ("https://api.cordova-fixture.example/v1/contacts",)
    assert flow.location.startswith("assets/www/js/app.js:12 (function syncContacts)")
    assert [s.action for s in flow.steps] == ["read by navigator.contacts.find()", "sent by fetch()"]


def test_cordova_plugin_bundled_but_never_called_stays_declared(audit) -> None:
    """Negative control: the plugin's Java side reads contacts, but no JavaScript calls it."""
    result = audit("apk/cordova_unused.apk")
    assert _runtime_names(result) == ["Cordova"]
    assert result.facts.channels["contacts"].level == "declared"
    (unused,) = _evidence(result, "contacts", "plugin_unused")
    assert "cordova-plugin-contacts is bundled but never called" in unused.value
    assert not _evidence(result, "contacts", "field")  # the plugin's ContactsContract read is set aside
    declared = next(f for f in result.findings if f.rule_id == "CEA-CONTACTS-DECLARED")
    assert any(e.kind == "plugin_unused" for e in declared.evidence)


def test_react_native_plain_bundle_await_then_axios_is_an_upload(audit) -> None:
    result = audit("apk/rn_plain.apk")
    assert _runtime_names(result) == ["React Native"]
    assert result.facts.channels["contacts"].level == "upload"
    (flow,) = _evidence(result, "contacts", "flow")
    assert flow.endpoints == ("https://api.rn-fixture.example/contacts/upload",)
    assert "uploadContacts" in flow.location


def test_apps_without_a_runtime_report_none(audit) -> None:
    assert audit("apk/contacts_upload.apk").facts.runtime.runtimes == ()


def test_runtimes_in_json_table_and_html(audit) -> None:
    result = audit("apk/cordova_contacts.apk")
    assert app_dict(result)["runtimes"] == [{
        "name": "Cordova", "evidence": ["assets/www/cordova.js", "assets/www/cordova_plugins.js"],
        "analysis": "1 JavaScript file(s) parsed"}]
    report = Report("0", "sha256:x", (), (result,))
    table = table_format.render(report, RenderOptions(verbose=True))
    assert "Built with Cordova (assets/www/cordova.js, assets/www/cordova_plugins.js): 1 JavaScript file(s) parsed" in table
    page = html_format.render(report, RenderOptions())
    assert "Code outside the dex" in page and "Built with Cordova" in page
    zh = table_format.render(report, RenderOptions(verbose=True, lang="zh-CN"))
    assert "使用 Cordova 构建" in zh
    json.dumps(app_dict(result))


# -- JavaScript analysis on small scripts ------------------------------------------------------------


def _script_evidence(rules: RuleSet, source: str) -> list[tuple[str, str, tuple[str, ...]]]:
    apis = tuple(e for e in rules.runtime_apis if e.js or e.js_new)
    result = javascript.ScriptAnalysis(javascript.Script("app.js", source.encode()), apis).result()
    return [(c.channel, c.evidence.kind, c.evidence.endpoints) for c in result.evidence]


def test_sink_that_does_not_receive_the_read_is_only_nearby(rules: RuleSet) -> None:
    found = _script_evidence(rules, """
function f() {
  navigator.contacts.find(['*'], function (cs) { console.log(cs.length); fetch('https://x.example/ping'); });
}""")
    assert ("contacts", "sink_nearby", ("https://x.example/ping",)) in found
    assert not [k for _c, k, _e in found if k == "flow"]


def test_xmlhttprequest_send_of_the_read_is_a_flow_with_the_opened_url(rules: RuleSet) -> None:
    found = _script_evidence(rules, """
function f() {
  SMS.listSMS({box: 'inbox'}, function (messages) {
    var body = JSON.stringify(messages);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', 'http://collect.example/sms');
    xhr.send(body);
  }, function () {});
}""")
    assert ("sms", "flow", ("http://collect.example/sms",)) in found


def test_websocket_then_callback_flow(rules: RuleSet) -> None:
    found = _script_evidence(rules, """
const ws = new WebSocket('wss://ws.example/feed');
function f(CallLogs) { CallLogs.load(50).then(logs => { ws.send(JSON.stringify({logs})); }); }
""")
    assert ("call_log", "flow", ("wss://ws.example/feed",)) in found


def test_picker_call_is_picker_evidence_not_a_read(rules: RuleSet) -> None:
    found = _script_evidence(rules, "navigator.contacts.pickContact(function (c) { fetch('https://x.example', {body: c}); });")
    assert found == [("contacts", "picker", ())]


@pytest.mark.parametrize("source", [b"", b"\xff\xfe not javascript {{{", b"function (" * 1000])
def test_broken_javascript_never_raises(rules: RuleSet, source: bytes) -> None:
    apis = tuple(e for e in rules.runtime_apis if e.js or e.js_new)
    javascript.ScriptAnalysis(javascript.Script("x.js", source), apis).result()


def test_hermes_bundle_gives_code_and_an_unproven_upload_candidate(audit) -> None:
    result = audit("apk/rn_hermes.apk")
    assert _runtime_names(result) == ["React Native"]
    assert result.facts.runtime.runtimes[0].analysis.startswith("Hermes bytecode v")
    assert result.facts.channels["contacts"].level == "code"  # never upload: nothing is proven
    nearby = _evidence(result, "contacts", "sink_nearby")
    assert [e.location for e in nearby] == ["assets/index.android.bundle (Hermes function uploadContacts)"]
    assert "not proven" in nearby[0].detail
    assert nearby[0].endpoints == ()  # ENDPOINT is a module variable, read from the closure environment
    # showOffers fetches too, but reads nothing: no evidence for it
    assert not [e for e in result.facts.channels["contacts"].evidence if "showOffers" in (e.location or "")]


def test_flutter_plugin_read_is_code_and_says_dart_is_not_analysed(audit) -> None:
    result = audit("apk/flutter_contacts.apk")
    (runtime,) = result.facts.runtime.runtimes
    assert runtime.name == "Flutter"
    assert "https://api.flutter-fixture.example/v1/contacts" in runtime.analysis
    assert "Dart code that receives the data and may send it is not analysed" in runtime.analysis
    assert result.facts.channels["contacts"].level == "code"
    (api,) = [e for e in _evidence(result, "contacts", "api") if e.value.startswith("Flutter plugin")]
    assert "MethodChannel 'github.com/clovisnicolas/flutter_contacts'" in api.value
    assert "package:contacts_service/" in api.value
    assert "not analysed" in api.detail


@pytest.mark.parametrize("fixture", ["apk/xamarin_contacts.apk", "apk/maui_blob.apk"])
def test_xamarin_assemblies_lz4_and_blob(audit, fixture: str) -> None:
    result = audit(fixture)
    (runtime,) = result.facts.runtime.runtimes
    assert runtime.name.startswith("Xamarin")
    assert runtime.analysis.startswith("1 of the app's own .NET assemblies read (framework and library assemblies skipped)")
    assert result.facts.channels["contacts"].level == "code"
    (api,) = _evidence(result, "contacts", "api")
    assert api.value.startswith("Xamarin.Essentials.Contacts::GetAllAsync") and api.location == "LoanApp"
    (nearby,) = _evidence(result, "contacts", "sink_nearby")
    assert "System.Net.Http.HttpClient::PostAsync" in nearby.value and "not proven" in nearby.detail


def test_unlisted_packer_is_not_assessable_with_each_reason(audit) -> None:
    result = audit("apk/packer_unnamed.apk")
    reasons = " | ".join(result.facts.assessability)
    assert not result.facts.assessable
    assert "4 of 4 manifest components are in no readable dex" in reasons
    assert "starts in native code (native attachBaseContext)" in reasons
    assert "reflection on a name built from pieces ('dalvik.system.' + 'DexClass' + 'Loader')" in reasons
    assert "asset 'assets/cfg.dat' is a base64-encoded dex" in reasons
    assert "encrypted asset 'assets/d.bin'" in reasons
    assert any(f.rule_id == "CEA-HIDDEN-NOT-ASSESSABLE" for f in result.findings)


@pytest.mark.parametrize("fixture", ["apk/benign.apk", "apk/contacts_upload.apk", "apk/multidex.apk", "apk/hidden_dex.apk"])
def test_ordinary_apps_show_no_unlisted_packer(audit, fixture: str) -> None:
    assert not [e for e in audit(fixture).facts.code.hiding if e.value.startswith("unlisted packer")]


def test_store_names_come_from_assemblies_manifest() -> None:
    from auditor.runtimes import dotnet

    text = b"Hash 32     Hash 64             Blob ID  Blob idx  Name\n0x1  0x2  000  0000  LoanApp\n0x3  0x4  000  0001  Mono.Android\n"
    assert dotnet.store_names(text) == ["LoanApp", "Mono.Android"]
    assert dotnet.is_library("assemblies/Mono.Android.dll") and not dotnet.is_library("LoanApp")


def test_corrupt_runtime_files_never_raise(rules: RuleSet) -> None:
    from auditor.runtimes import dotnet, flutter, hermes

    assert hermes.analyse("x", hermes.MAGIC + b"\0" * 40, rules.runtime_apis).summary.startswith("Hermes bytecode could not be read")
    assert flutter.snapshot_strings(b"\x7fELF" + b"\xff" * 60) is None
    with pytest.raises(dotnet.AssemblyError):
        dotnet.references(dotnet.Assembly("x.dll", b"MZ" + b"\0" * 100))
    with pytest.raises(dotnet.AssemblyError):
        dotnet.decompress(b"XALZ\0\0\0\0\xff\xff\xff\x7f" + b"\0" * 20, 1 << 20)
    with pytest.raises(dotnet.AssemblyError):
        list(dotnet.store_assemblies("a.blob", b"XABA" + b"\xff" * 16, 1 << 20))


# -- containers: .aab, .apks without metadata, .dex, .jar, .aar ---------------------------------------


def test_app_bundle_reads_protobuf_manifests_and_every_module(audit) -> None:
    result = audit("bundles/bundle.aab")
    assert result.container == "aab"
    m = result.facts.manifest
    assert (m.package, m.version_name, m.min_sdk, m.target_sdk) == ("com.cea.fixture.bundle", "1.0", 21, 29)
    assert m.splits == ("feature_sync",)
    assert "android.permission.READ_CONTACTS" in {p.name for p in m.permissions}
    assert result.facts.code.dex_count == 2  # base/dex/classes.dex and feature_sync/dex/classes.dex
    assert result.facts.assessable


def test_split_apks_zipped_without_metadata(audit) -> None:
    result = audit("bundles/bundle_nometa.apks")
    assert result.container == "apks"
    assert result.facts.manifest.package == "com.cea.fixture.bundle"
    assert set(result.facts.manifest.splits) == {"feature_sync", "config.xxhdpi"}


@pytest.mark.parametrize(("fixture", "container"), [("bundles/feature_sync.dex", "dex"), ("bundles/feature_sync.jar", "jar")])
def test_code_without_a_manifest(audit, fixture: str, container: str) -> None:
    """Recognised by content alone (a result depends on the bytes, never on the file name)."""
    result = audit(fixture)
    assert (result.status, result.container) == ("ok", container)
    assert result.facts.manifest.package == "" and not result.facts.manifest.permissions
    assert result.facts.channels["contacts"].level == "upload"
    assert not result.facts.channels["contacts"].undeclared_access  # permissions are unknown, not missing


def test_a_zip_of_dex_named_apk_is_code_without_a_manifest(audit) -> None:
    result = audit("bad/dex_only.apk")
    assert (result.status, result.container, result.facts.manifest.package) == ("ok", "jar", "")


def test_android_library_manifest_is_read_and_jvm_code_said_not_analysed(audit) -> None:
    result = audit("bundles/library.aar")
    assert result.container == "aar"
    assert result.facts.manifest.package == "com.cea.fixture.library"
    assert not result.facts.assessable
    assert any("JVM class files, which are not analysed" in r for r in result.facts.assessability)


def test_folder_scan_finds_dex_and_aar_but_not_jar(tmp_path) -> None:
    from auditor.inputs import collect_inputs

    for name in ("a.dex", "b.aar", "c.jar", "d.aab"):
        (tmp_path / name).write_bytes(b"x")
    files, _missing = collect_inputs((tmp_path,))
    assert sorted(p.rsplit("/", 1)[-1] for p in files) == ["a.dex", "b.aar", "d.aab"]


def test_protobuf_manifest_garbage_is_a_corrupt_archive() -> None:
    from auditor.errors import CorruptArchive
    from auditor.extract.manifest_proto import proto_manifest_root

    for data in (b"\xff\xff\xff", b"\x0a\x02\x1a\x00", b""):
        with pytest.raises(CorruptArchive):
            proto_manifest_root(data, "base/")


def test_runtimes_in_markdown_csv_and_sarif(audit, rules: RuleSet) -> None:
    import csv
    import io

    from auditor.formats import csv as csv_format
    from auditor.formats import markdown as markdown_format
    from auditor.formats import sarif as sarif_format

    report = Report("0", "sha256:x", rules.infos(), (audit("apk/rn_hermes.apk"),))
    assert r"Built with React Native \(assets/index.android.bundle\): Hermes bytecode v" in \
        markdown_format.render(report, RenderOptions())
    (row,) = list(csv.DictReader(io.StringIO(csv_format.render(report, RenderOptions()))))
    assert row["runtimes"] == "React Native"
    results = json.loads(sarif_format.render(report, RenderOptions()))["runs"][0]["results"]
    assert results and all(x["properties"]["runtimes"] == ["React Native"] for x in results)


def test_runtime_file_globs_match_as_fnmatch_does(rules: RuleSet) -> None:
    """detect tries the globs only on the names their literal ends admit: it finds what fnmatch over
    every name finds, for names made from each glob and near misses of them."""
    globs = [g for entry in rules.runtimes for g in entry.files]
    names = [g.replace("*", "x/y") for g in globs] + [g.replace("*", "") for g in globs]
    names += [n + "~" for n in names] + ["~" + n for n in names] + ["classes.dex", "lib/arm64-v8a/libfoo.so", ""]
    found = {entry.name: hits for entry, hits in detect(names, [], rules)}
    assert found  # the made-up names do show runtimes
    for entry in rules.runtimes:
        expected = [n for n in names if any(fnmatchcase(n, g) for g in entry.files)][:3]
        assert found.get(entry.name, ()) == tuple(expected)
