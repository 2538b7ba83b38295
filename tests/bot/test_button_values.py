"""Button values survive the round trip, and values no button of ours made are refused."""

from __future__ import annotations

import pytest

from bot.button_values import AlertRef, BadButtonValue, MorePage, RunRef, SentRef


def test_round_trips() -> None:
    for value in (RunRef("ask", "q:what is ROI? a|b"), RunRef("account", "12345")):
        assert RunRef.decode(value.encode()) == value
    page = MorePage("churn", 20, "--min_severity low --owner 'Ava | Adams'")
    assert MorePage.decode(page.encode()) == page
    assert AlertRef.decode(AlertRef("1000000042", "silence").encode()) == AlertRef("1000000042", "silence")
    for sent in (SentRef("501", "contractsent", "as-roi", 1717000000000), SentRef("501", "contractsent", "as-roi")):
        assert SentRef.decode(sent.encode()) == sent


@pytest.mark.parametrize("decode,value", [(RunRef.decode, "ask"), (MorePage.decode, "gaps|x|"), (MorePage.decode, "gaps"),
                                          (AlertRef.decode, "42|"), (AlertRef.decode, "|silence"),
                                          (SentRef.decode, "501|contractsent|as-roi"),
                                          (SentRef.decode, "501||as-roi|"), (SentRef.decode, "501|s|a|x1")])
def test_foreign_values_are_refused(decode: object, value: str) -> None:
    with pytest.raises(BadButtonValue):
        decode(value)  # type: ignore[operator]


def test_values_fit_slacks_limit() -> None:
    assert len(RunRef("ask", "q:" + "x" * 5000).encode()) == 2000
