"""What one feature cost: totals, by agent, by category (phase), and its timeline by day."""

from __future__ import annotations

from dataclasses import dataclass

from .spend import Line, Totals, group, total


@dataclass
class FeatureCost:
    feature: str
    totals: Totals
    by_agent: dict
    by_category: dict
    timeline: dict                   # day -> Totals, oldest first

    def as_json(self) -> dict:
        def rows(d: dict, name: str) -> list[dict]:
            return [{name: k, **t.as_json()} for k, t in d.items()]
        return {
            "feature": self.feature,
            "totals": {**self.totals.as_json(),
                       "firstDay": self.totals.first_day.isoformat() if self.totals.first_day else None,
                       "lastDay": self.totals.last_day.isoformat() if self.totals.last_day else None},
            "byAgent": rows(self.by_agent, "agent"),
            "byCategory": rows(self.by_category, "category"),
            "timeline": [{"date": d.isoformat(), **t.as_json()} for d, t in self.timeline.items()],
        }


def matches(feature: str | None, wanted: str) -> bool:
    return feature is not None and feature.casefold() == wanted.casefold()


def feature_cost(lines: list[Line], feature: str) -> FeatureCost:
    mine = [l for l in lines if matches(l.feature, feature)]
    timeline = group(mine, lambda l: l.day)
    name = (mine[0].feature or feature) if mine else feature      # as it was booked, whatever case was typed
    return FeatureCost(name, total(mine), group(mine, lambda l: l.agent), group(mine, lambda l: l.category),
                       dict(sorted(timeline.items())))


def features_seen(lines: list[Line]) -> list[str]:
    return sorted({l.feature for l in lines if l.feature})

