"""What ``linkage train`` prints: counts only, never a name, ID or phone."""

from __future__ import annotations

from pathlib import Path

from linkage.model.train import TrainingReport

SHOWN_KINDS = 10  # decided kinds listed by ``linkage train``; the rest are in the model JSON


def describe_training(report: TrainingReport, model_path: Path) -> list[str]:
    """Lines for the terminal: the model, what verdicts changed, the held-out check."""
    if report.base:
        lines = [f"verdicts learned on top of {report.base} (its m, u and prior {report.prior:.3g} "
                 f"kept), over {report.records} archives -> {model_path}"]
    else:
        lines = [f"trained on {report.records} archives; prior {report.prior:.3g} -> {model_path}"]
    repeated = sum(n - 1 for n in report.warnings_repeated.values() if n > 1)
    if repeated:
        lines.append(f"{len(report.warnings_repeated)} distinct Splink warnings "
                     f"({repeated} repeats not shown)")
    v = report.verdicts
    if v is None:
        return lines
    lines.append(
        f"labels: {v.labels_same + v.labels_different} verdicts ({v.labels_same} same, "
        f"{v.labels_different} different); {v.labels_not_in_data} not found in INPUT")

    def by_granularity(kinds: dict[str, int]) -> str:
        return ", ".join(f"{n} by {g}" for g, n in kinds.items() if n) or "none"

    lines.append(
        f"learned: {v.patterns} evidence patterns seen; {v.patterns_auto} kind(s) of pair now "
        f"joined automatically ({by_granularity(v.kinds_auto)}), {v.patterns_drop} no longer "
        f"queued ({by_granularity(v.kinds_drop)}); of the labelled pairs {v.labels_auto} would "
        f"now join and {v.labels_drop} leave the queue; prior and m/u unchanged (verdicts are a "
        "biased sample of look-alikes)")
    for line in v.decided[:SHOWN_KINDS]:
        lines.append(f"  {line}")
    if len(v.decided) > SHOWN_KINDS:
        lines.append(f"  ... and {len(v.decided) - SHOWN_KINDS} more (model JSON, linkage_verdicts)")
    if v.held_out:
        lines.append(
            f"held-out check ({v.held_out} verdicts kept aside, decided by the other "
            f"{v.labels_same + v.labels_different - v.labels_not_in_data - v.held_out}): before, all "
            f"{v.held_out} went to review; after, {v.held_out_auto} joined "
            f"({v.held_out_auto_wrong} wrongly), {v.held_out_drop} left out "
            f"({v.held_out_drop_wrong} wrongly), {v.held_out - v.held_out_auto - v.held_out_drop} "
            "still to review")
    for warning in v.warnings:
        lines.append(f"Warning: {warning}")
    return lines
