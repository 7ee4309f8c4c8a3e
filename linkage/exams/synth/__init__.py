"""Synthetic elderly exams with known fabrication (measure.py honest values, inject.py the
fabrication, generate.py the schedule and files)."""

from linkage.exams.synth.generate import ExamSynthSummary, generate_exams

__all__ = ["ExamSynthSummary", "generate_exams"]
