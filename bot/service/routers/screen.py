"""Eligibility screen endpoint: POST /v1/screen (filled in by the eligibility issue)."""
from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["eligibility"])
