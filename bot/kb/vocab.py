"""The domain vocabulary now lives in bot/vocab.py (below both the knowledge base and the
understanding step, so neither package imports the other both ways). This module re-exports it
for the modules not yet moved over (bot/kb/build.py); new code imports bot.vocab."""

from bot.vocab import (
    CROSS_CUTTING_TOPICS,
    CROSS_CUTTING_WEIGHT,
    CUE_WEIGHT,
    STOPWORDS,
    SUBWORD_MIN_LEN,
    USERDICT_RELPATH,
    VOCAB_GROUPS,
    Vocabulary,
    char_ngrams,
    configure_jieba,
    load_vocabulary,
    normalize_query,
    read_userdict_words,
    spacy_nlp,
    tokenize,
    vocabulary,
)

__all__ = [
    "CROSS_CUTTING_TOPICS",
    "CROSS_CUTTING_WEIGHT",
    "CUE_WEIGHT",
    "STOPWORDS",
    "SUBWORD_MIN_LEN",
    "USERDICT_RELPATH",
    "VOCAB_GROUPS",
    "Vocabulary",
    "char_ngrams",
    "configure_jieba",
    "load_vocabulary",
    "normalize_query",
    "read_userdict_words",
    "spacy_nlp",
    "tokenize",
    "vocabulary",
]
