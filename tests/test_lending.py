"""The lending classifier: whole-word matching, cheap string search, and its verdicts on the labelled set."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from auditor.extract.arsc import StringPool
from auditor.extract.lending import _cannot_match, found_in, needles, word_pattern
from auditor.extract.occurrences import KEEP, WINDOW, Occurrences
from auditor.limits import Limits
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import LendingSignal

CORPUS = Path(os.environ.get("CEA_CORPUS", Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"))


def signal(*terms: str, case: str = "any", match: str = "word") -> LendingSignal:
    return LendingSignal("vocab.test", "en", terms, ("dex",), 1, "https://example.invalid", case, match)


@pytest.mark.parametrize(("text", "found"), [
    ("Apply for a loan today", True), ("SecondLoanAdapter", True), ("second_loan_item", True), ("/api/loan/apply", True),
    ("LOANS", True), ("Sloane Square", False), ("loanword", False), ("alone", False),
])
def test_loan_matches_as_a_word(text: str, found: bool) -> None:
    assert (found_in(text, signal("loan", "loans"), "loan") is not None) is found


@pytest.mark.parametrize(("text", "found"), [("Pay in easy EMI", True), ("QuickEMI", True), ("PREMIUM", False),
                                             ("EMIT", False), ("emi", False)])
def test_acronyms_match_in_capitals_only(text: str, found: bool) -> None:
    assert (found_in(text, signal("EMI", case="exact"), "EMI") is not None) is found


def test_the_cheap_no_is_never_wrong() -> None:
    """_cannot_match spares compiling a pattern; it may only say no where the pattern finds nothing."""
    terms = ["loan", "EMI", "p\u0131njaman", "préstamo", "贷款", "Kredit", "\u212aredit", "\u017fms", "upi://pay"]
    texts = ["Loan Shark", "pinjaman", "PINJAMAN", "SMS", "kredit", "EMI plan", "préstamo rápido", "PRÉSTAMO", "贷款", "upi://PAY",
             "plain app", ""]
    for term in terms:
        for text in texts:
            for case in ("any", "exact"):
                if _cannot_match(text, term, case):
                    assert word_pattern(term, case, "substring").search(text) is None, (term, text, case)
    assert not _cannot_match("pinjaman", "p\u0131njaman", "any")  # dotless i folds to i: the pattern does match
    assert word_pattern("p\u0131njaman", "any", "substring").search("pinjaman") is not None


def test_one_search_finds_a_term_and_its_longer_forms() -> None:
    assert needles(("loan", "loans"), False) == ("loan",)
    assert set(needles(("préstamo", "Préstamos", "prestamo"), False)) == {"prestamo", "préstamo"}


def _table(strings: list[str], utf8: bool) -> bytes:
    """A minimal resources.arsc: table header + one global string pool."""
    body = b""
    offsets = []
    for s in strings:
        offsets.append(len(body))
        if utf8:
            raw = s.encode("utf-8")
            body += bytes([len(s), len(raw)]) + raw + b"\0"
        else:
            body += struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\0\0"
    body += b"\0" * (-len(body) % 4)
    header = 28
    pool = struct.pack("<HHIIIIII", 1, header, header + 4 * len(strings) + len(body), len(strings), 0,
                       0x100 if utf8 else 0, header + 4 * len(strings), 0)
    pool += struct.pack(f"<{len(strings)}I", *offsets) + body
    return struct.pack("<HHII", 2, 12, 12 + len(pool), 1) + pool


@pytest.mark.parametrize("utf8", [True, False])
def test_string_pool_search_cuts_out_whole_strings(utf8: bool) -> None:
    pool = StringPool(_table(["Benign", "Pinjaman online cepat", "借款额度最高5000元", "LOAN OFFER"], utf8))
    assert pool.containing("pinjaman") == ["Pinjaman online cepat"]
    assert pool.containing("借款") == ["借款额度最高5000元"]
    assert pool.containing("loan") == ["LOAN OFFER"]
    assert pool.containing("loan", exact=True) == []
    assert StringPool(b"not a table").containing("loan") == []


@pytest.mark.parametrize("text", [b"aaa loans\0loan\0xloanloan\0", "借款借款额度\0aaa loan\0"])
def test_one_pass_finds_what_a_find_per_needle_finds(text: bytes | str) -> None:
    """Overlapping hits, a needle inside another, at every start: the same answers as text.find."""
    wanted = ["aa", "loan", "loans", "oan", "借款", "款借", "absent"]
    keys = [w.encode() for w in wanted] if isinstance(text, bytes) else wanted
    found = Occurrences(text, keys)
    for key in keys:
        for start in range(len(text) + 1):
            assert found.find(key, start) == text.find(key, start), (key, start)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [b"x" * (WINDOW - 2) + b"loanloan\0loan" + b"y" * WINDOW + b"loan",
                                  "x" * (WINDOW - 3) + "借款借款" + "y" * WINDOW + "借款"])
def test_hits_across_scan_windows_are_found_once(text: bytes | str) -> None:
    keys = [b"loan", b"an"] if isinstance(text, bytes) else ["借款", "款借"]
    found = Occurrences(text, keys)  # type: ignore[arg-type]
    for key in keys:
        assert found.positions[key] == [i for i in range(len(text)) if text.startswith(key, i)]  # type: ignore[arg-type]
        for start in [0, WINDOW - 3, WINDOW - 2, WINDOW, WINDOW + 1, 2 * WINDOW, len(text)]:
            assert found.find(key, start) == text.find(key, start), (key, start)  # type: ignore[arg-type]


def test_a_needle_repeated_millions_of_times_keeps_a_bounded_list() -> None:
    text = b"loan" * 2_000_000 + b"\0kyc"
    found = Occurrences(text, [b"loan", b"oanl", b"kyc"])
    assert len(found.positions[b"loan"]) == KEEP and found.positions[b"kyc"] == [len(text) - 3]
    for start in [0, 4 * KEEP - 1, 4 * KEEP + 1, 7_999_999, len(text)]:
        for key in (b"loan", b"oanl", b"kyc"):
            assert found.find(key, start) == text.find(key, start), (key, start)


@pytest.mark.parametrize("utf8", [True, False])
def test_announced_needles_give_the_same_strings(utf8: bool) -> None:
    strings = ["LOAN OFFER", "loanloan", "Pinjaman online cepat", "借款额度最高5000元", "KYC done", "kyc"]
    asked = [("loan", False), ("pinjaman", False), ("借款", False), ("KYC", True), ("kyc", False)]
    announced = StringPool(_table(strings, utf8), asked)
    plain = StringPool(_table(strings, utf8))
    for needle, exact in asked:
        assert announced.containing(needle, exact) == plain.containing(needle, exact)
    assert announced.containing("KYC", exact=True) == ["KYC done"]


@pytest.mark.parametrize(("apk", "kind"), [
    ("lending_upload", "lending"), ("lending_jiekuan", "lending"), ("lending_picker", "lending"),
    ("nonlending_shop_upi", "other"), ("benign", "other"), ("contacts_upload", "other"),
    ("nonlending_finance_news", "unknown"), ("packer", "unknown"),
])
def test_fixture_kinds(audit, apk: str, kind: str) -> None:
    result = audit(f"apk/{apk}.apk")
    assert result.app_kind is not None and result.app_kind.kind == kind, result.app_kind


def test_evidence_names_entry_and_place_and_adds_up(audit, rules) -> None:
    from auditor.classify import points

    kind = audit("apk/lending_upload.apk").app_kind
    assert {e.detail for e in kind.evidence} >= {"vocab.id.pinjaman@label", "reg.id.ojk@resources", "vocab.id.pinjaman@dex"}
    assert sum(points(e, rules.lending) for e in kind.evidence) == kind.score


def test_labelled_fixture_set_precision_and_recall() -> None:
    """The figures of docs/verdict.md for the fixture half of the labelled set (7 lending, 9 other)."""
    import tools.measure_lending as measure

    rows = [r for r in measure.predictions(Path("/nonexistent")) if not r[0].startswith("corpus/")]
    m = measure.measure(rows)
    assert (m["n"], m["tp"], m["fp"], m["fn"], m["unknown"]) == (16, 6, 1, 1, 4)


LENDERS = {"loan-app/cn_zhenyaodai_daikuanchaoshi.apk": "lending", "spyloan/blackloan_com.loan.test1_5bc922.apk": "lending",
           "spyloan/sextortion_contacts_com.ate3982st.apk": "other", "other-malware/premium_sms_diabetes.apk": "other",
           "benign-plain/google_authenticator2.apk": "other"}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
@pytest.mark.parametrize(("name", "kind"), sorted(LENDERS.items()))
def test_corpus_kinds(rules, name: str, kind: str) -> None:
    result = audit_path(str(CORPUS / name), rules, Limits())
    assert result.app_kind is not None and result.app_kind.kind == kind
