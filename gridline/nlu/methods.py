"""The embedded engine's classification methods, by name (kept apart from scikit-learn, which only
training imports).

* ``char_lr`` — the baseline: character 1–4-gram TF-IDF + logistic regression.
* ``char_svm`` — character 1–3-gram TF-IDF + linear SVM with a temperature-scaled softmax (the
  default, chosen by measurement: see docs/nlu.md).
* ``char_word_svm`` — ``char_svm`` plus jieba word unigrams.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = ("char_lr", "char_svm", "char_word_svm")
DEFAULT_METHOD = "char_svm"
BASELINE_METHOD = "char_lr"
