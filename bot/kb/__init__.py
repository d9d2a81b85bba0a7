"""Policy knowledge base: provisions, vocabulary, search and answers (plain Python).

from bot.kb import KnowledgeBase
kb = KnowledgeBase.load()                      # cached per folder
kb.search("低保怎么申请", jurisdiction="渠县", limit=5)
kb.answer("低保是什么", jurisdiction=None)
"""

from bot.kb.hit import Hit
from bot.kb.knowledge_base import KnowledgeBase

__all__ = ["Hit", "KnowledgeBase"]
