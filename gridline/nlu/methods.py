"""The embedded engine's classification methods, by name (kept apart from scikit-learn, which only
training imports).

* ``char_lr`` — character 1–4-gram TF-IDF + logistic regression.
* ``char_svm`` — the baseline: character 1–3-gram TF-IDF + linear SVM with a temperature-scaled
  softmax (the default until issue 14).
* ``char_word_svm`` — ``char_svm`` plus jieba word unigrams.
* ``char_pinyin_svm`` — character 1–2-grams + toneless pinyin syllable 1–2-grams, balanced class
  weights (the default, chosen by cross-validation on two data sets and on speech-like text:
  docs/nlu.md).
* ``char_word_pinyin_svm`` — ``char_pinyin_svm`` plus jieba search-mode words.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = ("char_lr", "char_svm", "char_word_svm", "char_pinyin_svm", "char_word_pinyin_svm")
DEFAULT_METHOD = "char_pinyin_svm"
# The plain character n-gram TF-IDF + linear SVM every benchmark reports beside the chosen method.
BASELINE_METHOD = "char_svm"
