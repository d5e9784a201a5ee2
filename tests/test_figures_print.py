"""Figures as printed: Swedish numbers on the axes, and a cue besides colour for every status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import copy_project
from underlag.report import figures
from underlag.report.load import load_report

STATUSES = ["exempel", "preliminär", "förslag", "fastställd"]


def test_automatic_tick_labels_have_decimal_commas_and_spaced_thousands(tmp_path):
    """An axis from 1.0 to 5.0 beside a label "3,22" must read "1,0 … 5,0"; 7000 reads "7 000"."""
    figures._setup_matplotlib()
    import matplotlib.pyplot as plt

    fig, (scores, money) = plt.subplots(1, 2)
    scores.set_xlim(1, 5)
    scores.set_xticks([1, 1.5, 2, 2.5, 3])  # fixed positions keep the default number format
    money.set_ylim(0, 7000)
    (tmp_path / "figures").mkdir()
    figures.save(fig, tmp_path / "figures", "prov")
    fig.canvas.draw()
    score_labels = [t.get_text() for t in scores.get_xticklabels()]
    money_labels = [t.get_text() for t in money.get_yticklabels()]
    assert "2,5" in score_labels and not any("." in label for label in score_labels)
    assert "7 000" in money_labels


@pytest.fixture(scope="module")
def shipped_report(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("figurer"))
    report, problems = load_report(project)
    assert not problems
    return report


@pytest.mark.parametrize("status", STATUSES)
def test_rollout_variants_differ_by_hatch_in_every_status(shipped_report, tmp_path, status):
    """Two variants drawn in two colours only are one variant to a reader without colour vision
    or with a black-and-white print: each keeps its own pattern whatever its status."""
    figures._setup_matplotlib()
    alternative = next(a for a in shipped_report.alternatives if len(a.rollout_variants) >= 2)
    flipped = alternative.model_copy(update={"rollout_variants": [
        v.model_copy(update={"status": status}) for v in alternative.rollout_variants]})
    (tmp_path / "figures").mkdir()
    spec = figures._rollout(flipped, tmp_path / "figures")
    svg = (tmp_path / "figures" / f"{spec.stem}.svg").read_text()
    patterns = set(re.findall(r'<pattern id="([^"]+)"', svg))
    assert len(patterns) >= len(flipped.rollout_variants), f"status {status}: {len(patterns)} mönster"
