import pytest

from token_roi.value.rates import QUALITY, Range, RatesError, hourly_rate, load_table, roi_range, value_range


def test_shipped_table_anchors_us_west_senior_software_engineer():
    assert hourly_rate("software-engineer") == Range(90, 120, 160)
    # India mid-level QA: 60/80/110 x 0.22 x 0.75
    r = hourly_rate("qa-engineer", "india", "mid")
    assert (r.low, r.mid, r.high) == pytest.approx((9.9, 13.2, 18.15))


def test_value_and_roi_ranges_from_the_extremes():
    hours, rate = Range(1, 2, 4), Range(90, 120, 160)
    v = value_range(hours, rate, QUALITY["with-edits"])
    assert (v.low, v.mid, v.high) == pytest.approx((63.0, 168.0, 448.0))
    roi = roi_range(v, 4.0)
    assert (roi.low, roi.mid, roi.high) == pytest.approx((15.75, 42.0, 112.0))
    assert roi_range(v, 0) is None
    assert value_range(hours, rate, QUALITY["failed"]).high == 0


def test_user_copy_wins_and_bad_tables_are_named(tmp_path, monkeypatch, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "human-rates.yaml").write_text(
        "roles: {software-engineer: {low: 50, mid: 60, high: 70}}\nregions: {home: 1.0}\nseniority: {senior: 1.0}\n")
    assert hourly_rate("software-engineer", "home", "senior") == Range(50, 60, 70)
    with pytest.raises(RatesError, match="unknown region 'us-west'"):
        hourly_rate("software-engineer")
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles: {x: {low: 9, mid: 5, high: 7}}\nregions: {a: 1}\nseniority: {b: 1}\n")
    with pytest.raises(RatesError, match=r"bad.yaml: roles.x needs numbers low <= mid <= high"):
        load_table(bad)
