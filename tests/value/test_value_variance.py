"""The cost variance split must add up exactly and attribute each change to the right cause."""

import pytest

from token_roi.value.variance import ModelUsage, scale, split_cost_variance, variance

SONNET = 3e-6   # $/token, a simplified blended price
OPUS = 15e-6


def test_pure_volume_change_is_all_volume():
    base = [ModelUsage("sonnet", 1_000_000, 3.0)]
    act = [ModelUsage("sonnet", 1_500_000, 4.5)]
    v = split_cost_variance(base, act)
    assert v.total == pytest.approx(1.5)
    assert v.volume == pytest.approx(1.5)
    assert v.mix == pytest.approx(0.0, abs=1e-12)
    assert v.rate == pytest.approx(0.0, abs=1e-12)


def test_shift_to_dearer_model_is_mix():
    # Same 2M tokens, moved from 75/25 to 25/75 sonnet/opus at unchanged prices.
    base = [ModelUsage("sonnet", 1_500_000, 4.5), ModelUsage("opus", 500_000, 7.5)]     # $12
    act = [ModelUsage("sonnet", 500_000, 1.5), ModelUsage("opus", 1_500_000, 22.5)]     # $24
    v = split_cost_variance(base, act)
    assert v.total == pytest.approx(12.0)
    assert v.volume == pytest.approx(0.0, abs=1e-9)
    # mix = (0.25-0.75)*2M*3e-6 + (0.75-0.25)*2M*15e-6 = -3 + 15 = 12
    assert v.mix == pytest.approx(12.0)
    assert v.rate == pytest.approx(0.0, abs=1e-9)


def test_cache_hit_drop_is_rate():
    # Same tokens and model; fewer cache hits make each token dearer: 3.0 -> 4.2 dollars.
    base = [ModelUsage("sonnet", 1_000_000, 3.0)]
    act = [ModelUsage("sonnet", 1_000_000, 4.2)]
    v = split_cost_variance(base, act)
    assert (v.volume, v.mix) == (pytest.approx(0.0, abs=1e-12), pytest.approx(0.0, abs=1e-12))
    assert v.rate == pytest.approx(1.2)


def test_all_three_at_once_add_up_to_the_total_exactly():
    base = [ModelUsage("sonnet", 3_000_000, 9.0), ModelUsage("haiku", 1_000_000, 1.0)]   # $10, 4M
    act = [ModelUsage("sonnet", 2_000_000, 7.0), ModelUsage("opus", 3_000_000, 45.0)]    # $52, 5M
    v = split_cost_variance(base, act)
    # P = 10/4M = 2.5e-6; volume = 1M * 2.5e-6 = 2.5
    assert v.volume == pytest.approx(2.5)
    # mix: sonnet (0.4-0.75)*5M*3e-6 = -5.25; haiku (0-0.25)*5M*1e-6 = -1.25;
    #      opus is new: its own price 15e-6 stands in, (0.6-0)*5M*15e-6 = 45  => 38.5
    assert v.mix == pytest.approx(38.5)
    # rate: sonnet (3.5e-6 - 3e-6) * 2M = 1.0; opus 0 => 1.0
    assert v.rate == pytest.approx(1.0)
    assert v.volume + v.mix + v.rate == v.total == pytest.approx(42.0)


def test_empty_baseline_is_all_volume_and_three_week_average():
    act = [ModelUsage("sonnet", 100, 0.5)]
    v = split_cost_variance([], act)
    assert (v.total, v.volume, v.mix, v.rate) == (0.5, 0.5, 0.0, 0.0)
    three_weeks = [ModelUsage("sonnet", 3_000_000, 9.0)]
    weekly = scale(three_weeks, 1 / 3)
    assert weekly[0].tokens == pytest.approx(1_000_000) and weekly[0].cost == pytest.approx(3.0)


def test_plain_variance_direction():
    assert variance(30.0, 20.0, higher_is_better=False)["favourable"] is False   # NVA % went up
    roi = variance(4.0, 5.0, higher_is_better=True)
    assert roi["favourable"] is False and roi["percent"] == pytest.approx(-20.0)
    assert variance(1.0, 0.0, higher_is_better=True)["percent"] is None


def test_plain_variance_without_a_baseline():
    # 0 -> 0 did not change (0%); 0 -> 5 has no percentage to speak of
    assert variance(0.0, 0.0, higher_is_better=False)["percent"] == 0.0
    v = variance(5.0, 0.0, higher_is_better=False)
    assert v["percent"] is None and v["variance"] == 5.0 and v["favourable"] is False
    v = variance(3.0, 4.0, higher_is_better=True)
    assert v["percent"] == pytest.approx(-25.0) and v["favourable"] is False
