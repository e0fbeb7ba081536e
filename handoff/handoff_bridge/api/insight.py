"""Insight API for supervisors: a period's report as JSON, and each of its tables as CSV."""

from __future__ import annotations

from sanic import Blueprint, Request, json, text

from ..errors import Invalid
from ..services import insight as insight_svc
from .common import deps, require_supervisor

bp = Blueprint("insight", url_prefix="/api/v1/agent/insight")


def _query(request: Request) -> insight_svc.Query:
    return insight_svc.Query.from_args({k: request.args.get(k) for k in ("from", "to", "tz", "municipality", "topic")})


@bp.get("/", ctx_auth="supervisor", strict_slashes=False)
async def report(request: Request):
    await require_supervisor(request)
    return json(await insight_svc.report(deps(request), _query(request)))


@bp.get("/export/<table:str>", ctx_auth="supervisor")
async def export(request: Request, table: str):
    await require_supervisor(request)
    if table not in insight_svc.TABLES:
        raise Invalid("invalid_table", "table must be one of " + ", ".join(insight_svc.TABLES))
    q = _query(request)
    data = await insight_svc.report(deps(request), q, table=table)
    filename = f"insight-{table}-{q.first.isoformat()}-{q.last.isoformat()}.csv"
    return text(insight_svc.to_csv(data, table), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'})
