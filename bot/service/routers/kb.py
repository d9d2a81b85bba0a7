"""Knowledge-base endpoints (filled in by the knowledge-base issue)."""
from fastapi import APIRouter

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
