from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from bot.db import Database
from bot.service.deps import get_db

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str


@router.get("/healthz", response_model=HealthOut, summary="Liveness and database check")
def healthz(db: Database = Depends(get_db)) -> dict:
    with db.session() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok"}
