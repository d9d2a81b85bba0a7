from fastapi import APIRouter, Request
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
def healthz(request: Request) -> dict:
    with request.app.state.db.session() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok"}
