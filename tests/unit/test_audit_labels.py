"""Every kind of audit event the code records has a French name on the journal."""

import re
from pathlib import Path

from portal.audit.labels import ACTION_LABELS, action_label
from portal.subscriptions.rules import Action

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# audit.record("kind", …), also when the kind is chosen by a condition ("a" if … else "b").
RECORDED = re.compile(r"audit\.record\(\s*((?:\"[a-z_]+\.[a-z_]+\"(?:\s+if\s[^\n]*?\selse\s+)?)+)")
KIND = re.compile(r"\"([a-z_]+\.[a-z_]+)\"")


def recorded_kinds() -> set[str]:
    kinds = set()
    for path in PORTAL.rglob("*.py"):
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            kinds.update(KIND.findall(match.group(1)))
    return kinds


def test_every_recorded_kind_has_a_label():
    kinds = recorded_kinds()
    assert len(kinds) > 40, kinds  # the scan finds the calls
    assert sorted(kinds - set(ACTION_LABELS)) == []


def test_every_subscription_action_has_a_label():
    # subscriptions record f"subscription.{action}" for each transition
    assert {f"subscription.{a.value}" for a in Action} <= set(ACTION_LABELS)


def test_an_unknown_kind_reads_as_another_event_never_as_its_key():
    assert action_label("something.new") == "Autre événement"
